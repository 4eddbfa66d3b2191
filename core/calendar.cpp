#include "core/calendar.hpp"

#include <chrono>
#include <cstdio>

namespace sfbridge::calendar {

std::int64_t days_from_civil(int y, int m, int d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy =
        (153 * static_cast<unsigned>(m > 2 ? m - 3 : m + 9) + 2) / 5 + static_cast<unsigned>(d) - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, int& m, int& d) noexcept {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

bool valid_civil(int y, int m, int d) noexcept {
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return false;
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= (m == 2 && leap ? 29 : days[m - 1]);
}

void append_utc(std::string& text, std::int64_t epoch_ms, char separator, bool zulu) {
    std::int64_t days = epoch_ms / 86400000, rem = epoch_ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        --days;
    }
    int y, m, d;
    civil_from_days(days, y, m, d);
    // By hand rather than snprintf: this runs for every datetime of an initial load, where
    // snprintf's format parsing was 5% of sfbridge's CPU time.
    const std::size_t at0 = text.size();
    text.resize(at0 + (zulu ? 24 : 23), '0');
    char* out = text.data() + at0;
    auto put = [out](std::size_t at, int value, int width) {
        for (int i = width - 1; i >= 0; --i, value /= 10)
            out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    };
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999; // outside what Salesforce and the columns hold
    put(0, y, 4);
    out[4] = '-';
    put(5, m, 2);
    out[7] = '-';
    put(8, d, 2);
    out[10] = separator;
    put(11, static_cast<int>(rem / 3600000), 2);
    out[13] = ':';
    put(14, static_cast<int>(rem / 60000 % 60), 2);
    out[16] = ':';
    put(17, static_cast<int>(rem / 1000 % 60), 2);
    out[19] = '.';
    put(20, static_cast<int>(rem % 1000), 3);
    if (zulu)
        out[23] = 'Z';
}

std::string format_utc(std::int64_t epoch_ms, char separator, bool zulu) {
    std::string out;
    append_utc(out, epoch_ms, separator, zulu);
    return out;
}

std::int64_t now_ms() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

namespace {
// `n` decimal digits of `t` at `at` (the caller checked the length) into `out`.
bool digits(std::string_view t, std::size_t at, std::size_t n, int& out) noexcept {
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (t[i] < '0' || t[i] > '9')
            return false;
        out = out * 10 + (t[i] - '0');
    }
    return true;
}
} // namespace

std::optional<std::int64_t> parse_http_date(std::string_view t) noexcept {
    // "Sun, 06 Nov 1994 08:49:37 GMT": 29 characters at fixed places.
    if (t.size() != 29 || t.substr(3, 2) != ", " || t[7] != ' ' || t[11] != ' ' || t[16] != ' ' ||
        t[19] != ':' || t[22] != ':' || t.substr(25) != " GMT")
        return std::nullopt;
    auto number = [&](std::size_t at, std::size_t n, int& out) { return digits(t, at, n, out); };
    static constexpr std::string_view months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const std::size_t mon = months.find(t.substr(8, 3));
    int d = 0, y = 0, hh = 0, mm = 0, ss = 0;
    if (mon == std::string_view::npos || mon % 3 != 0 || !number(5, 2, d) || !number(12, 4, y) ||
        !number(17, 2, hh) || !number(20, 2, mm) || !number(23, 2, ss))
        return std::nullopt;
    const int m = static_cast<int>(mon / 3) + 1;
    if (!valid_civil(y, m, d) || hh > 23 || mm > 59 || ss > 60)
        return std::nullopt;
    const std::int64_t secs = days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
    return secs * 1000;
}

std::optional<std::int64_t> parse_utc_datetime(std::string_view t) noexcept {
    // "YYYY-MM-DDTHH:MM:SS" then ".fff" or not, then "Z", "+0000" or "+00:00".
    if (t.size() < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':')
        return std::nullopt;
    auto number = [&](std::size_t at, std::size_t n, int& out) { return digits(t, at, n, out); };
    int y = 0, m = 0, d = 0, hh = 0, mm = 0, ss = 0, ms = 0;
    if (!number(0, 4, y) || !number(5, 2, m) || !number(8, 2, d) || !number(11, 2, hh) ||
        !number(14, 2, mm) || !number(17, 2, ss))
        return std::nullopt;
    std::string_view rest = t.substr(19);
    if (rest.size() >= 4 && rest[0] == '.') {
        if (!number(20, 3, ms))
            return std::nullopt;
        rest = rest.substr(4);
    }
    if (rest != "Z" && rest != "+0000" && rest != "+00:00")
        return std::nullopt;
    if (!valid_civil(y, m, d) || hh > 23 || mm > 59 || ss > 60)
        return std::nullopt;
    return (days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss) * 1000 + ms;
}

} // namespace sfbridge::calendar
