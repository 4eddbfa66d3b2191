#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Salesforce record ids: 15 case-sensitive characters (3 of key prefix, 12 of instance and
// sequence) plus a 3-character suffix that encodes, for each 5-character chunk, which letters are
// upper case, so that the 18-character form survives case-insensitive systems.
namespace sfbridge::sim::ids {

// The 3-character suffix for a 15-character id.
[[nodiscard]] std::string checksum(std::string_view id15);
// The 18-character form of a 15- or 18-character id; "" if `id` is neither.
[[nodiscard]] std::string to18(std::string_view id);
// True for a well-formed 15- or 18-character id whose suffix (if any) matches.
[[nodiscard]] bool valid(std::string_view id);
// A new 18-character id: the key prefix, a fixed instance part, and `sequence` in base 62.
[[nodiscard]] std::string make(std::string_view key_prefix, std::uint64_t sequence);
// Compares two ids the way Salesforce does: their 15-character forms, case-sensitively.
[[nodiscard]] bool same(std::string_view a, std::string_view b);

} // namespace sfbridge::sim::ids
