#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

// Values as sfsim stores them: null, boolean, number, or text. Dates, datetimes and times are
// text in one canonical UTC form each, so that comparing the strings compares the instants:
//   date      YYYY-MM-DD
//   datetime  YYYY-MM-DDTHH:MM:SS.mmmZ
//   time      HH:MM:SS.mmmZ
namespace sfbridge::sim {

using value = std::variant<std::monostate, bool, double, std::string>;

inline bool is_null(const value& v) noexcept {
    return std::holds_alternative<std::monostate>(v);
}

// Milliseconds since the Unix epoch <-> canonical datetime.
[[nodiscard]] std::string format_datetime(std::int64_t epoch_ms);
// Parses the forms Salesforce accepts (YYYY-MM-DDTHH:MM:SS[.fff](Z|+HHMM|+HH:MM), also a bare
// date, read as midnight UTC) into epoch milliseconds.
[[nodiscard]] bool parse_datetime(std::string_view text, std::int64_t& epoch_ms) noexcept;
// The canonical form of a datetime input, or "" if it is not one.
[[nodiscard]] std::string canonical_datetime(std::string_view text);
// REST's output form: 2024-01-31T10:00:00.000+0000.
[[nodiscard]] std::string rest_datetime(std::string_view canonical);
[[nodiscard]] bool valid_date(std::string_view text) noexcept;
// HH:MM[:SS[.fff]][Z] -> canonical, or "" if invalid.
[[nodiscard]] std::string canonical_time(std::string_view text);
[[nodiscard]] std::int64_t days_from_civil(int y, int m, int d) noexcept;

} // namespace sfbridge::sim
