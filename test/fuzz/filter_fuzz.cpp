// libFuzzer target: whatever a mapping's sfbridge_filter holds, the parser returns a condition
// or an error; it never crashes. A condition it accepts, written as SOQL, reads back to the same
// SOQL (what is sent to Salesforce is what was checked), and testing a row against it ends.
#include "mappings/filter.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sfbridge::mappings;
    std::string error;
    const auto n = parse_filter(std::string_view(reinterpret_cast<const char*>(data), size), error);
    if (!n)
        return error.empty() ? (std::abort(), 0) : 0; // a refusal always says why
    const std::string soql = filter_soql(*n);
    const auto again = parse_filter(soql, error);
    // Written out, every inner AND, OR and NOT is in parentheses: past the parser's depth limit
    // for a condition near it (that is the one way the SOQL may not read back).
    if (!again && error.find("nests more than") == std::string::npos)
        std::abort(); // the SOQL written out cannot be read
    if (again && filter_soql(*again) != soql)
        std::abort(); // the SOQL written out does not read back to itself
    field_describe text;
    text.info.type = "string";
    (void)filter_matches(
        *n,
        [](std::string_view f) {
            return filter_value{f.size() % 3 != 0, std::string(f)};
        },
        [&](std::string_view) { return &text; });
    return 0;
}
