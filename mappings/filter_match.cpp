#include "core/calendar.hpp"
#include "core/text.hpp"
#include "mappings/filter.hpp"
#include "mappings/values.hpp"

#include <charconv>
#include <string>
#include <vector>

// A row's values tested against a checked filter, as Salesforce would test the record.
namespace sfbridge::mappings {
namespace {

std::optional<double> number(std::string_view s) {
    double d = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc() || end != s.data() + s.size())
        return std::nullopt;
    return d;
}

// Postgres's timestamp text ("2024-01-31 10:00:00" with up to six fraction digits) or the
// literal's canonical form, in milliseconds.
std::optional<std::int64_t> instant(std::string_view s) {
    if (s.size() < 19)
        return std::nullopt;
    std::string utc(s.substr(0, 19));
    utc[10] = 'T';
    std::int64_t ms = 0;
    if (s.size() > 20 && s[19] == '.')
        for (std::size_t i = 20, scale = 100; i < s.size() && i < 23; ++i, scale /= 10) {
            if (s[i] < '0' || s[i] > '9')
                break;
            ms += static_cast<std::int64_t>(s[i] - '0') * static_cast<std::int64_t>(scale);
        }
    const auto t = calendar::parse_utc_datetime(utc + "Z");
    if (!t)
        return std::nullopt;
    return *t + ms;
}

// -1, 0, 1; nullopt when the value cannot be read as the field's kind.
std::optional<int> compare(value_class c, std::string_view row, const filter_literal& lit) {
    auto sign = [](auto a, auto b) { return a < b ? -1 : (b < a ? 1 : 0); };
    switch (c) {
    case value_class::number: {
        const auto a = number(row), b = number(lit.text);
        if (!a || !b)
            return std::nullopt;
        return sign(*a, *b);
    }
    case value_class::boolean: {
        const bool a = row == "t" || row == "true";
        return sign(a, lit.text == "true");
    }
    case value_class::datetime: {
        const auto a = instant(row), b = instant(lit.text);
        if (!a || !b)
            return std::nullopt;
        return sign(*a, *b);
    }
    case value_class::date:
        return sign(row.substr(0, 10), std::string_view(lit.text));
    case value_class::text:
    case value_class::time:
        break;
    }
    return sign(text::ascii_lower(row), text::ascii_lower(lit.text));
}

bool compare_holds(const std::string& op, int cmp) {
    if (op == "=")
        return cmp == 0;
    if (op == "!=")
        return cmp != 0;
    if (op == "<")
        return cmp < 0;
    if (op == "<=")
        return cmp <= 0;
    if (op == ">")
        return cmp > 0;
    return cmp >= 0;
}

// SOQL's LIKE: % any run, _ one character, a backslash escapes; ignoring (ASCII) case. The
// greedy match that backtracks only to the last %: O(value x pattern), whatever the pattern.
bool like(std::string_view s, std::string_view pattern) {
    struct item {
        char c;
        bool any_run, any_one;
    };
    std::vector<item> p;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '\\' && i + 1 < pattern.size())
            p.push_back({text::ascii_lower(pattern[++i]), false, false});
        else
            p.push_back({text::ascii_lower(pattern[i]), pattern[i] == '%', pattern[i] == '_'});
    }
    std::size_t si = 0, pi = 0, star = std::string_view::npos, mark = 0;
    while (si < s.size()) {
        if (pi < p.size() && !p[pi].any_run &&
            (p[pi].any_one || p[pi].c == text::ascii_lower(s[si]))) {
            const bool whole_character = p[pi].any_one;
            ++si;
            ++pi;
            // _ is one character, however many UTF-8 bytes it takes.
            while (whole_character && si < s.size() &&
                   (static_cast<unsigned char>(s[si]) & 0xC0) == 0x80)
                ++si;
        } else if (pi < p.size() && p[pi].any_run) {
            star = pi++;
            mark = si;
        } else if (star != std::string_view::npos) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < p.size() && p[pi].any_run)
        ++pi;
    return pi == p.size();
}

// The raw pattern with SOQL's string escapes other than \% and \_ (and \\) undone.
std::string like_pattern(std::string_view raw) {
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '\\' || i + 1 == raw.size()) {
            out += raw[i];
            continue;
        }
        const char e = raw[++i];
        switch (e) {
        case '%':
        case '_':
        case '\\':
            out += '\\';
            out += e;
            break;
        case 'n':
            out += '\n';
            break;
        case 'r':
            out += '\r';
            break;
        case 't':
            out += '\t';
            break;
        case 'b':
            out += '\b';
            break;
        case 'f':
            out += '\f';
            break;
        default:
            out += e;
        }
    }
    return out;
}

bool in_list(value_class c, const std::optional<std::string>& v, const filter_node& n) {
    for (const auto& lit : n.values) {
        if (lit.k == filter_literal::kind::null) {
            if (!v)
                return true;
            continue;
        }
        if (v && compare(c, *v, lit) == 0)
            return true;
    }
    return false;
}

} // namespace

namespace {
filter_result of(bool b) {
    return b ? filter_result::match : filter_result::no_match;
}

// One predicate over a known value (or NULL). Text compares as Salesforce stores it: an empty
// string is null there; a checkbox is never null (null reads as false, `= null` as `= false`).
bool predicate(const filter_node& n, value_class c, std::optional<std::string> v) {
    if (c == value_class::text && v && v->empty())
        v.reset();
    if (c == value_class::boolean && !v)
        v = "f";
    switch (n.k) {
    case filter_node::kind::in:
        return in_list(c, v, n);
    case filter_node::kind::not_in:
        return !in_list(c, v, n);
    case filter_node::kind::like:
        return v && like(*v, like_pattern(n.values.front().raw));
    default:
        break;
    }
    filter_literal lit = n.values.front();
    if (c == value_class::boolean && lit.k == filter_literal::kind::null)
        lit = filter_literal{filter_literal::kind::boolean, "false", {}};
    if (lit.k == filter_literal::kind::null)
        return n.op == "=" ? !v : (n.op == "!=" ? v.has_value() : false);
    if (!v)
        return n.op == "!="; // a null field differs from every value
    const auto cmp = compare(c, *v, lit);
    return cmp && compare_holds(n.op, *cmp);
}
} // namespace

filter_result
filter_matches(const filter_node& n, const std::function<filter_value(std::string_view)>& value_of,
               const std::function<const field_describe*(std::string_view)>& describe_of) {
    switch (n.k) {
    case filter_node::kind::and_:
    case filter_node::kind::or_: {
        // Kleene's logic: a false part decides an AND, a true part an OR, whatever is unknown.
        const auto decides =
            n.k == filter_node::kind::and_ ? filter_result::no_match : filter_result::match;
        bool unknown = false;
        for (const auto& c : n.children) {
            const auto r = filter_matches(c, value_of, describe_of);
            if (r == decides)
                return r;
            unknown = unknown || r == filter_result::unknown;
        }
        return unknown ? filter_result::unknown
                       : (decides == filter_result::match ? filter_result::no_match
                                                          : filter_result::match);
    }
    case filter_node::kind::not_: {
        const auto r = filter_matches(n.children.front(), value_of, describe_of);
        return r == filter_result::unknown ? r : of(r == filter_result::no_match);
    }
    default:
        break;
    }
    const field_describe* f = describe_of(n.field);
    const filter_value v = value_of(n.field);
    if (!v.known)
        return filter_result::unknown;
    return of(predicate(n, f ? classify(f->info) : value_class::text, v.value));
}

} // namespace sfbridge::mappings
