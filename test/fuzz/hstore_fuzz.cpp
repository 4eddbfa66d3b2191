// libFuzzer target: whatever text the app's trigger log holds, the hstore reader returns pairs
// or an error; it never crashes or reads out of bounds. What it accepts, written back in
// hstore's output form, reads back the same (ASan and UBSan watch).
#include "bridge/hstore.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {
std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    sfbridge::bridge::hstore_pairs pairs;
    std::string error;
    if (!sfbridge::bridge::parse_hstore(text, pairs, error))
        return 0;
    std::string written;
    for (const auto& [k, v] : pairs)
        written += (written.empty() ? "" : ", ") + quoted(k) + "=>" + (v ? quoted(*v) : "NULL");
    sfbridge::bridge::hstore_pairs again;
    if (!sfbridge::bridge::parse_hstore(written, again, error) || again != pairs)
        std::abort(); // the reader and hstore's own output form disagree
    return 0;
}
