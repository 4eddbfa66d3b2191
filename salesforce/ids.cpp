#include "salesforce/ids.hpp"

namespace sfbridge::salesforce {

namespace {
bool letter_or_digit(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
} // namespace

bool is_record_id(std::string_view id) noexcept {
    if (id.size() != 15 && id.size() != 18)
        return false;
    for (char c : id)
        if (!letter_or_digit(c))
            return false;
    if (id.size() == 15)
        return true;
    // Each suffix character is one of A-Z0-5, naming a 5-bit mask of which characters of its
    // group of five are upper case. It is compared case-insensitively.
    static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    for (std::size_t group = 0; group < 3; ++group) {
        unsigned mask = 0;
        for (std::size_t i = 0; i < 5; ++i) {
            const char c = id[group * 5 + i];
            if (c >= 'A' && c <= 'Z')
                mask |= 1u << i;
        }
        char got = id[15 + group];
        if (got >= 'a' && got <= 'z')
            got = static_cast<char>(got - 'a' + 'A');
        if (got != alphabet[mask])
            return false;
    }
    return true;
}

} // namespace sfbridge::salesforce
