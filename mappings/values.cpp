#include "mappings/values.hpp"

#include "core/calendar.hpp"
#include "core/json_writer.hpp"
#include "core/text.hpp"
#include "core/utf8.hpp"

#include <charconv>
#include <cmath>

namespace sfbridge::mappings {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
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

bool valid_date(std::string_view s) {
    int y = 0, m = 0, d = 0;
    return s.size() == 10 && s[4] == '-' && s[7] == '-' && digits(s, 0, 4, y) &&
           digits(s, 5, 2, m) && digits(s, 8, 2, d) && calendar::valid_civil(y, m, d);
}

// Parses YYYY-MM-DDTHH:MM:SS[.fff](Z|+HHMM|+HH:MM) (also a space instead of T, and no zone for
// Postgres' own UTC timestamps when `zone_required` is false) into epoch milliseconds.
bool parse_instant(std::string_view s, bool zone_required, std::int64_t& out) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
    if (s.size() < 16 || !valid_date(s.substr(0, 10)) || (s[10] != 'T' && s[10] != ' ') ||
        !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi))
        return false;
    digits(s, 0, 4, y);
    digits(s, 5, 2, mo);
    digits(s, 8, 2, d);
    std::size_t p = 16;
    if (p < s.size() && s[p] == ':') {
        if (!digits(s, p + 1, 2, sec))
            return false;
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
            for (int i = n; i < 3; ++i)
                ms *= 10;
        }
    }
    int offset = 0;
    if (p == s.size()) {
        if (zone_required)
            return false;
    } else if (s[p] == 'Z' && p + 1 == s.size()) {
    } else if (s[p] == '+' || s[p] == '-') {
        const int sign = s[p] == '-' ? -1 : 1;
        int oh, om;
        std::size_t q = p + 1;
        if (!digits(s, q, 2, oh))
            return false;
        q += 2;
        if (q < s.size() && s[q] == ':')
            ++q;
        if (!digits(s, q, 2, om) || q + 2 != s.size())
            return false;
        offset = sign * (oh * 60 + om);
    } else {
        return false;
    }
    if (h > 23 || mi > 59 || sec > 59)
        return false;
    out = ((calendar::days_from_civil(y, mo, d) * 24 + h) * 60 + mi - offset) * 60000LL +
          sec * 1000LL + ms;
    return true;
}

bool is_number(std::string_view s) {
    double d;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    return ec == std::errc{} && p == s.data() + s.size() && std::isfinite(d);
}

} // namespace

value_class classify(const sf_field_info& f) noexcept {
    using text::iequals;
    const std::string_view t = f.type;
    if (iequals(t, "boolean"))
        return value_class::boolean;
    if (iequals(t, "double") || iequals(t, "currency") || iequals(t, "percent") ||
        iequals(t, "int") || iequals(t, "long"))
        return value_class::number;
    if (iequals(t, "date"))
        return value_class::date;
    if (iequals(t, "datetime"))
        return value_class::datetime;
    if (iequals(t, "time"))
        return value_class::time;
    return value_class::text;
}

namespace {
// A text value without its NUL characters, in `scratch`.
std::string_view without_nul(std::string_view raw, std::string& scratch) {
    scratch.clear();
    for (char c : raw)
        if (c != '\0')
            scratch.push_back(c);
    return scratch;
}
} // namespace

conversion to_postgres(const sf_field_info& f, value_class c, sf_value_kind kind,
                       std::string_view raw, std::string& scratch,
                       std::optional<std::string_view>& out, std::string& error) {
    out.reset();
    if (kind == sf_value_kind::json_null || (kind == sf_value_kind::csv && raw.empty()))
        return conversion::ok;
    auto bad = [&](const char* what) {
        // The value is quoted as safe text: the message is stored in Postgres too.
        error.assign(f.name)
            .append(": ")
            .append(what)
            .append(", not \"")
            .append(utf8::printable(raw, 80))
            .append("\"");
        return conversion::refused;
    };
    // JSON was checked by its parser; a Bulk CSV page is bytes as Salesforce wrote them.
    if (kind == sf_value_kind::csv && !utf8::valid(raw))
        return bad("not valid UTF-8");
    switch (c) {
    case value_class::boolean:
        if (raw != "true" && raw != "false")
            return bad("expected true or false");
        out = raw == "true" ? "t" : "f";
        return conversion::ok;
    case value_class::number:
        if (!is_number(raw))
            return bad("expected a number");
        out = raw;
        return conversion::ok;
    case value_class::date:
        if (!valid_date(raw))
            return bad("expected a date YYYY-MM-DD");
        out = raw;
        return conversion::ok;
    case value_class::datetime: {
        std::int64_t ms;
        if (!parse_instant(raw, true, ms))
            return bad("expected a datetime with a zone");
        scratch.clear();
        calendar::append_utc(scratch, ms, ' ', false); // UTC, no zone: Heroku Connect's columns
        out = scratch;
        return conversion::ok;
    }
    case value_class::time: {
        // HH:MM:SS.mmmZ -> HH:MM:SS.mmm
        std::string_view v = raw;
        if (!v.empty() && v.back() == 'Z')
            v.remove_suffix(1);
        int h, m;
        if (v.size() < 5 || !digits(v, 0, 2, h) || v[2] != ':' || !digits(v, 3, 2, m) || h > 23 ||
            m > 59 || v.find('\0') != std::string_view::npos)
            return bad("expected a time HH:MM:SS.mmmZ");
        out = v;
        return conversion::ok;
    }
    case value_class::text:
        break;
    }
    // Text (a number or boolean in a text field: its text). Postgres text cannot hold a NUL
    // (U+0000, which Salesforce stores): the value is kept without it, and the caller says so.
    if (raw.find('\0') == std::string_view::npos) {
        out = raw;
        return conversion::ok;
    }
    out = without_nul(raw, scratch);
    error.assign("NUL characters removed from field ").append(f.name);
    return conversion::altered;
}

conversion to_postgres(const sf_field_info& f, sf_value_kind kind, std::string_view raw,
                       std::optional<std::string>& out, std::string& error) {
    std::string scratch;
    std::optional<std::string_view> v;
    out.reset();
    const auto result = to_postgres(f, classify(f), kind, raw, scratch, v, error);
    if (v)
        out.emplace(*v);
    return result;
}

bool to_salesforce_json(const sf_field_info& f, const std::optional<std::string>& pg_text,
                        std::string& json_out, std::string& error) {
    json_out.clear();
    if (!pg_text) {
        json_out = "null";
        return true;
    }
    const std::string& v = *pg_text;
    const std::string t = text::ascii_lower(f.type);
    auto bad = [&](const char* what) {
        error = f.name + ": " + what + ", not \"" + utf8::printable(v, 80) + "\"";
        return false;
    };
    if (t == "boolean") {
        if (v == "t" || v == "true" || v == "f" || v == "false") {
            json_out = (v == "t" || v == "true") ? "true" : "false";
            return true;
        }
        return bad("expected a boolean");
    }
    if (t == "double" || t == "currency" || t == "percent" || t == "int" || t == "long") {
        if (!is_number(v))
            return bad("expected a number");
        json_out = v;
        return true;
    }
    if (t == "datetime") {
        std::int64_t ms;
        if (!parse_instant(v, false, ms))
            return bad("expected a timestamp");
        json::append_quoted(json_out, calendar::format_utc(ms, 'T', true));
        return true;
    }
    if (t == "time") {
        json::append_quoted(json_out, v.size() == 8 ? v + ".000Z" : v + "Z");
        return true;
    }
    json::append_quoted(json_out, v);
    return true;
}

} // namespace sfbridge::mappings
