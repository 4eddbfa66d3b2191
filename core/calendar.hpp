#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Calendar arithmetic on the proleptic Gregorian calendar (Howard Hinnant's algorithms), for
// code that turns timestamps into text and back without the C library's time zone state.
namespace sfbridge::calendar {

[[nodiscard]] std::int64_t days_from_civil(int y, int m, int d) noexcept;
void civil_from_days(std::int64_t days, int& y, int& m, int& d) noexcept;
[[nodiscard]] bool valid_civil(int y, int m, int d) noexcept;

// Milliseconds since the epoch as "YYYY-MM-DD<sep>HH:MM:SS.mmm", with a trailing Z if `zulu`.
[[nodiscard]] std::string format_utc(std::int64_t epoch_ms, char separator, bool zulu);
// Milliseconds since the epoch as Postgres's timestamp text ("YYYY-MM-DD HH:MM:SS.mmm", UTC).
[[nodiscard]] inline std::string format_pg(std::int64_t epoch_ms) {
    return format_utc(epoch_ms, ' ', false);
}
// The wall clock in milliseconds since the epoch.
[[nodiscard]] std::int64_t now_ms() noexcept;
// The same appended to `out`.
void append_utc(std::string& out, std::int64_t epoch_ms, char separator, bool zulu);
// An HTTP Date header (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", the one form RFC 9110
// lets a server send) in milliseconds since the epoch; nullopt for anything else.
[[nodiscard]] std::optional<std::int64_t> parse_http_date(std::string_view text) noexcept;
// Salesforce's dateTime in UTC, "2024-01-31T10:00:00.000Z" (also "+0000" or "+00:00" for the
// zone, and without the fraction), in milliseconds since the epoch; nullopt for anything else.
[[nodiscard]] std::optional<std::int64_t> parse_utc_datetime(std::string_view text) noexcept;

} // namespace sfbridge::calendar
