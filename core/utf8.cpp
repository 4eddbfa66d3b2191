#include "core/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace sfbridge::utf8 {
namespace {

// The length of the well-formed sequence at s[i], or 0 when there is none (RFC 3629, table 3-7
// of the Unicode standard: the second byte's range depends on the first).
std::size_t sequence_at(std::string_view s, std::size_t i) noexcept {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    if (c < 0x80)
        return 1;
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF; // the second byte's range
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; // no overlong forms
        hi = c == 0xED ? 0x9F : 0xBF; // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF; // nothing past U+10FFFF
    } else {
        return 0;
    }
    if (i + n > s.size() || b(1) < lo || b(1) > hi)
        return 0;
    for (std::size_t k = 2; k < n; ++k)
        if ((b(k) & 0xC0) != 0x80)
            return 0;
    return n;
}

} // namespace

bool valid(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        // ASCII eight bytes at a time: most text is ASCII, and a load checks millions of values.
        if (i + 8 <= s.size()) {
            std::uint64_t word;
            std::memcpy(&word, s.data() + i, 8);
            if ((word & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        const std::size_t n = sequence_at(s, i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

std::string printable(std::string_view s, std::size_t max_bytes) {
    static constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = s[i] == '\0' ? 0 : sequence_at(s, i);
        const std::string_view piece = n ? s.substr(i, n) : replacement;
        if (out.size() + piece.size() > max_bytes)
            break;
        out.append(piece);
        i += n ? n : 1;
    }
    return out;
}

} // namespace sfbridge::utf8
