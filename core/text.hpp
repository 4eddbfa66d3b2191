#pragma once

#include <string>
#include <string_view>

// ASCII text helpers. Protocol names (header fields, schemes, hosts, Salesforce API names) are
// ASCII and compared case-insensitively; locale-dependent functions have no place there.
namespace sfbridge::text {

[[nodiscard]] inline char ascii_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

[[nodiscard]] inline std::string ascii_lower(std::string_view s) {
    std::string r(s);
    for (char& c : r)
        c = ascii_lower(c);
    return r;
}

[[nodiscard]] inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

} // namespace sfbridge::text
