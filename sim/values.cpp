#include "sim/values.hpp"

#include <cstdio>

namespace sfbridge::sim {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
    if (pos + n > s.size())
        return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = s[pos + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

bool leap(int y) noexcept {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) noexcept {
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

void civil_from_days(std::int64_t z, int& y, int& m, int& d) noexcept {
    // Howard Hinnant's algorithm.
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t yy = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    y = static_cast<int>(yy + (m <= 2));
}

} // namespace

std::int64_t days_from_civil(int y, int m, int d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy =
        (153 * static_cast<unsigned>(m > 2 ? m - 3 : m + 9) + 2) / 5 + static_cast<unsigned>(d) - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool valid_date(std::string_view s) noexcept {
    int y = 0, m = 0, d = 0;
    if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 0, 4, y) ||
        !digits(s, 5, 2, m) || !digits(s, 8, 2, d))
        return false;
    return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

bool parse_datetime(std::string_view s, std::int64_t& out) noexcept {
    if (!valid_date(s.substr(0, 10)))
        return false;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
    digits(s, 0, 4, y);
    digits(s, 5, 2, mo);
    digits(s, 8, 2, d);
    std::size_t p = 10;
    int offset_minutes = 0;
    if (p < s.size()) {
        if (s[p] != 'T' || !digits(s, p + 1, 2, h) || s.size() < p + 6 || s[p + 3] != ':' ||
            !digits(s, p + 4, 2, mi))
            return false;
        p += 6;
        if (p < s.size() && s[p] == ':') {
            if (!digits(s, p + 1, 2, sec))
                return false;
            p += 3;
            if (p < s.size() && s[p] == '.') {
                ++p;
                int frac_digits = 0;
                while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
                    if (frac_digits < 3)
                        ms = ms * 10 + (s[p] - '0');
                    ++frac_digits;
                    ++p;
                }
                if (frac_digits == 0)
                    return false;
                for (int i = frac_digits; i < 3; ++i)
                    ms *= 10;
            }
        }
        if (p == s.size())
            return false; // a time needs its zone
        if (s[p] == 'Z') {
            ++p;
        } else if (s[p] == '+' || s[p] == '-') {
            const int sign = s[p] == '-' ? -1 : 1;
            int oh, om;
            if (!digits(s, p + 1, 2, oh))
                return false;
            p += 3;
            if (p < s.size() && s[p] == ':')
                ++p;
            if (!digits(s, p, 2, om))
                return false;
            p += 2;
            offset_minutes = sign * (oh * 60 + om);
        } else {
            return false;
        }
        if (p != s.size() || h > 23 || mi > 59 || sec > 59)
            return false;
    }
    out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi - offset_minutes) * 60000LL +
          sec * 1000LL + ms;
    return true;
}

std::string format_datetime(std::int64_t epoch_ms) {
    std::int64_t days = epoch_ms / 86400000;
    std::int64_t rem = epoch_ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        --days;
    }
    int y, m, d;
    civil_from_days(days, y, m, d);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d,
                  static_cast<int>(rem / 3600000), static_cast<int>(rem / 60000 % 60),
                  static_cast<int>(rem / 1000 % 60), static_cast<int>(rem % 1000));
    return buf;
}

std::string canonical_datetime(std::string_view text) {
    std::int64_t ms;
    if (!parse_datetime(text, ms))
        return {};
    return format_datetime(ms);
}

std::string rest_datetime(std::string_view canonical) {
    if (canonical.size() != 24 || canonical.back() != 'Z')
        return std::string(canonical);
    return std::string(canonical.substr(0, 23)) + "+0000";
}

std::string canonical_time(std::string_view s) {
    int h, m, sec = 0, ms = 0;
    if (s.size() < 5 || !digits(s, 0, 2, h) || s[2] != ':' || !digits(s, 3, 2, m))
        return {};
    std::size_t p = 5;
    if (p < s.size() && s[p] == ':') {
        if (!digits(s, p + 1, 2, sec))
            return {};
        p += 3;
        if (p < s.size() && s[p] == '.') {
            ++p;
            int n = 0;
            while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
                if (n < 3)
                    ms = ms * 10 + (s[p] - '0');
                ++n;
                ++p;
            }
            if (n == 0)
                return {};
            for (int i = n; i < 3; ++i)
                ms *= 10;
        }
    }
    if (p < s.size() && s[p] == 'Z')
        ++p;
    if (p != s.size() || h > 23 || m > 59 || sec > 59)
        return {};
    char buf[24];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03dZ", h, m, sec, ms);
    return buf;
}

} // namespace sfbridge::sim
