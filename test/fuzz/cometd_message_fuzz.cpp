// libFuzzer target: whatever a server sends, the Bayeux message parser returns messages or an
// error; it never crashes, reads out of bounds, or leaks (ASan and UBSan watch).
#include "cometd/message.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static sfbridge::cometd::message_parser parser; // reused, as the client reuses it
    const simdjson::padded_string body(reinterpret_cast<const char*>(data), size);
    std::vector<sfbridge::cometd::message> out;
    std::string detail;
    const auto ec = parser.parse(std::string_view(body.data(), body.size()), out, detail);
    // Touch what was parsed so that a wrong view or a dangling copy shows up.
    std::size_t total = 0;
    for (const auto& m : out)
        total += m.channel.size() + m.data.size() + m.error.size() +
                 static_cast<std::size_t>(m.error_code());
    return ec && total ? 0 : 0;
}
