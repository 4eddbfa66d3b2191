#include "sim/values.hpp"

#include "core/calendar.hpp"

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

} // namespace

std::int64_t days_from_civil(int y, int m, int d) noexcept {
    return calendar::days_from_civil(y, m, d);
}

bool valid_date(std::string_view s) noexcept {
    int y = 0, m = 0, d = 0;
    if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 0, 4, y) ||
        !digits(s, 5, 2, m) || !digits(s, 8, 2, d))
        return false;
    return calendar::valid_civil(y, m, d);
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
    return calendar::format_utc(epoch_ms, 'T', true);
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
