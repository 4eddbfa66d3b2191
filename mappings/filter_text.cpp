#include "mappings/filter.hpp"
#include "mappings/values.hpp"

// A parsed filter checked against the mapped fields, and written out as SOQL.
namespace sfbridge::mappings {
namespace {

const char* expects(value_class c) {
    switch (c) {
    case value_class::text:
        return "a quoted string";
    case value_class::boolean:
        return "true or false";
    case value_class::number:
        return "a number";
    case value_class::date:
        return "a date (2024-01-31)";
    case value_class::datetime:
        return "a datetime in UTC (2024-01-31T10:00:00Z)";
    case value_class::time:
        break;
    }
    return "nothing (time fields cannot be filtered on)";
}

bool suits(value_class c, filter_literal::kind k) {
    using lk = filter_literal::kind;
    switch (c) {
    case value_class::text:
        return k == lk::string;
    case value_class::boolean:
        return k == lk::boolean;
    case value_class::number:
        return k == lk::number;
    case value_class::date:
        return k == lk::date;
    case value_class::datetime:
        return k == lk::datetime;
    case value_class::time:
        break;
    }
    return false;
}

// Whether a string literal as written holds \% or \_ (a backslash escaping the next character).
bool escapes_wildcard(std::string_view raw) {
    for (std::size_t i = 0; i + 1 < raw.size(); ++i)
        if (raw[i] == '\\') {
            if (raw[i + 1] == '%' || raw[i + 1] == '_')
                return true;
            ++i;
        }
    return false;
}

bool check_predicate(filter_node& n, const field_describe& f, std::string& error) {
    const value_class c = classify(f.info);
    n.field = f.info.name;
    if (f.calculated) {
        error = n.field + " is a formula field: its value changes without the record changing "
                          "(no event, no new SystemModstamp), so records would enter and leave "
                          "the filter unseen";
        return false;
    }
    if (!f.filterable) {
        error = n.field + " cannot be filtered on in Salesforce (long text areas, encrypted "
                          "fields and the like cannot appear in a WHERE clause)";
        return false;
    }
    if (n.k == filter_node::kind::like && c != value_class::text) {
        error = "LIKE needs a text field, and " + n.field + " is a " + f.info.type;
        return false;
    }
    if (n.k == filter_node::kind::compare && c == value_class::boolean && n.op != "=" &&
        n.op != "!=") {
        error = n.field + " is a checkbox: compare it with = or != only";
        return false;
    }
    for (const auto& v : n.values) {
        if (v.k == filter_literal::kind::null) {
            if (n.k == filter_node::kind::like ||
                (n.k == filter_node::kind::compare && n.op != "=" && n.op != "!=")) {
                error = n.field + ": null can only be compared with = or != (or listed in IN)";
                return false;
            }
            continue;
        }
        if (n.k != filter_node::kind::like && escapes_wildcard(v.raw)) {
            error = n.field + ": \\% and \\_ escape LIKE's wildcards, and mean nothing elsewhere";
            return false;
        }
        if (!suits(c, v.k)) {
            error = n.field + " is a " + f.info.type + " field: compare it with " + expects(c) +
                    ", not " + (v.k == filter_literal::kind::string ? "'" + v.raw + "'" : v.text);
            return false;
        }
    }
    return true;
}

std::string soql_literal(const filter_literal& v) {
    return v.k == filter_literal::kind::string ? "'" + v.raw + "'" : v.text;
}

} // namespace

bool check_filter(filter_node& n,
                  const std::function<const field_describe*(std::string_view)>& mapped,
                  std::string& error) {
    if (!n.children.empty()) {
        for (auto& c : n.children)
            if (!check_filter(c, mapped, error))
                return false;
        return true;
    }
    const field_describe* f = mapped(n.field);
    if (f == nullptr) {
        error = n.field +
                " is not a mapped field: a filter reads mapped fields only (map it), so that "
                "sfbridge can test an app's new rows against it";
        return false;
    }
    return check_predicate(n, *f, error);
}

namespace {
bool compound(const filter_node& n) {
    return n.k == filter_node::kind::and_ || n.k == filter_node::kind::or_ ||
           n.k == filter_node::kind::not_;
}

// Salesforce wants parentheses around every AND, OR or NOT inside another (it refuses
// "A AND B OR C", and reads "A AND NOT B" less reliably than "A AND (NOT B)").
std::string part(const filter_node& n) {
    return compound(n) ? "(" + filter_soql(n) + ")" : filter_soql(n);
}
} // namespace

std::string filter_soql(const filter_node& n) {
    std::string out;
    switch (n.k) {
    case filter_node::kind::and_:
    case filter_node::kind::or_:
        for (const auto& c : n.children)
            out +=
                (out.empty() ? "" : (n.k == filter_node::kind::and_ ? " AND " : " OR ")) + part(c);
        return out;
    case filter_node::kind::not_:
        return "NOT " + part(n.children.front());
    case filter_node::kind::compare:
        return n.field + " " + n.op + " " + soql_literal(n.values.front());
    case filter_node::kind::like:
        return n.field + " LIKE " + soql_literal(n.values.front());
    case filter_node::kind::in:
    case filter_node::kind::not_in:
        break;
    }
    for (const auto& v : n.values)
        out += (out.empty() ? "" : ", ") + soql_literal(v);
    return n.field + (n.k == filter_node::kind::in ? " IN (" : " NOT IN (") + out + ")";
}

} // namespace sfbridge::mappings
