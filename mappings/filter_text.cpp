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

bool check_predicate(filter_node& n, const field_describe& f, std::string& error) {
    const value_class c = classify(f.info);
    n.field = f.info.name;
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

void collect(const filter_node& n, std::vector<std::string>& out) {
    if (!n.field.empty()) {
        bool seen = false;
        for (const auto& f : out)
            seen = seen || f == n.field;
        if (!seen)
            out.push_back(n.field);
    }
    for (const auto& c : n.children)
        collect(c, out);
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
// Binding strength: OR < AND < NOT < a predicate. A child weaker than its place needs
// parentheses; no others are written, so the SOQL nests no deeper than the text it came from.
int strength(const filter_node& n) {
    switch (n.k) {
    case filter_node::kind::or_:
        return 1;
    case filter_node::kind::and_:
        return 2;
    case filter_node::kind::not_:
        return 3;
    default:
        return 4;
    }
}

std::string soql_of(const filter_node& n, int place) {
    std::string out;
    switch (n.k) {
    case filter_node::kind::and_:
    case filter_node::kind::or_:
        for (const auto& c : n.children)
            out += (out.empty() ? "" : (n.k == filter_node::kind::and_ ? " AND " : " OR ")) +
                   soql_of(c, strength(n));
        break;
    case filter_node::kind::not_:
        out = "NOT " + soql_of(n.children.front(), 3);
        break;
    case filter_node::kind::compare:
        out = n.field + " " + n.op + " " + soql_literal(n.values.front());
        break;
    case filter_node::kind::like:
        out = n.field + " LIKE " + soql_literal(n.values.front());
        break;
    case filter_node::kind::in:
    case filter_node::kind::not_in: {
        std::string list;
        for (const auto& v : n.values)
            list += (list.empty() ? "" : ", ") + soql_literal(v);
        out = n.field + (n.k == filter_node::kind::in ? " IN (" : " NOT IN (") + list + ")";
        break;
    }
    }
    return strength(n) < place ? "(" + out + ")" : out;
}
} // namespace

std::string filter_soql(const filter_node& n) {
    return soql_of(n, 0);
}

std::vector<std::string> filter_fields(const filter_node& n) {
    std::vector<std::string> out;
    collect(n, out);
    return out;
}

} // namespace sfbridge::mappings
