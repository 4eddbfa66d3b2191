#include "sim/ids.hpp"

namespace sfbridge::sim::ids {
namespace {
constexpr char suffix_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
constexpr char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool alnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
} // namespace

std::string checksum(std::string_view id15) {
    std::string s;
    for (int chunk = 0; chunk < 3; ++chunk) {
        int bits = 0;
        for (int i = 0; i < 5; ++i) {
            const char c = id15[static_cast<std::size_t>(chunk * 5 + i)];
            if (c >= 'A' && c <= 'Z')
                bits |= 1 << i;
        }
        s.push_back(suffix_chars[bits]);
    }
    return s;
}

bool valid(std::string_view id) {
    if (id.size() != 15 && id.size() != 18)
        return false;
    for (char c : id)
        if (!alnum(c))
            return false;
    if (id.size() == 18) {
        // The suffix is case-insensitive by design.
        const std::string expect = checksum(id.substr(0, 15));
        for (int i = 0; i < 3; ++i) {
            char c = id[static_cast<std::size_t>(15 + i)];
            if (c >= 'a' && c <= 'z')
                c = static_cast<char>(c - 'a' + 'A');
            if (c != expect[static_cast<std::size_t>(i)])
                return false;
        }
    }
    return true;
}

std::string to18(std::string_view id) {
    if (!valid(id))
        return {};
    std::string s(id.substr(0, 15));
    return s + checksum(s);
}

std::string make(std::string_view key_prefix, std::uint64_t sequence) {
    std::string s(key_prefix.substr(0, 3));
    while (s.size() < 3)
        s.push_back('0');
    s += "8d0"; // instance and reserved characters
    char digits[9];
    for (int i = 8; i >= 0; --i) {
        digits[i] = base62[sequence % 62];
        sequence /= 62;
    }
    s.append(digits, 9);
    return s + checksum(s);
}

bool same(std::string_view a, std::string_view b) {
    if (a.size() < 15 || b.size() < 15)
        return a == b;
    return a.substr(0, 15) == b.substr(0, 15);
}

} // namespace sfbridge::sim::ids
