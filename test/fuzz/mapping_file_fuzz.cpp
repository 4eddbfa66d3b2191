// libFuzzer target: whatever a user's mapping file holds, the reader returns mappings or errors
// naming what is wrong; it never crashes. A file it accepts, written canonically, reads back,
// and writing that again gives the same text (the canonical form is a fixed point; mappings
// are sorted there, so the first read may differ in order only).
#include "mappings/mapping_file.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> errors;
    const auto file = sfbridge::mappings::read_mapping_file(
        std::string_view(reinterpret_cast<const char*>(data), size), errors);
    if (!file)
        return 0;
    const std::string written = sfbridge::mappings::write_mapping_file(*file);
    std::vector<std::string> again_errors;
    const auto again = sfbridge::mappings::read_mapping_file(written, again_errors);
    if (!again || sfbridge::mappings::write_mapping_file(*again) != written)
        std::abort(); // the canonical form does not read back to itself
    return 0;
}
