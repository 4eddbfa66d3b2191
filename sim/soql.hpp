#pragma once

#include "sim/org.hpp"
#include "sim/schema.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The SOQL that sync tools use, parsed for real: select lists, FROM one object, WHERE with
// comparisons, IN/NOT IN, LIKE, INCLUDES/EXCLUDES, AND/OR/NOT and parentheses over date,
// datetime, number, string, boolean and null literals, ORDER BY, LIMIT, OFFSET and COUNT().
// Errors carry Salesforce's codes (MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE) and its
// message layout with the row and column of the offending token.
namespace sfbridge::sim::soql {

struct error {
    std::string code;
    std::string message;
};

struct literal {
    enum class kind { null, boolean, number, string, date, datetime } k = kind::null;
    bool b = false;
    double d = 0;
    std::string s; // text, or the canonical date/datetime
};

struct condition {
    enum class kind { and_, or_, not_, compare, in, not_in, like, includes, excludes } k;
    std::vector<std::unique_ptr<condition>> children;
    int field = -1;
    std::string op; // for compare: = != < <= > >=
    std::vector<literal> values;
};

struct order_item {
    int field = -1;
    bool descending = false;
    bool nulls_last = false;
};

struct query {
    const object_def* object = nullptr;
    bool count_only = false;
    std::vector<int> fields; // select list, in order (no duplicates)
    std::unique_ptr<condition> where;
    std::vector<order_item> order_by;
    std::optional<long> limit;
    std::optional<long> offset;
    std::vector<int> where_fields; // every field the WHERE clause reads

    // Constructs PushTopic queries may not use (they parse, and then PushTopic refuses them).
    bool has_aggregate = false;
    bool has_group_by = false;
    bool has_not = false;
    bool has_relationship = false;
    bool has_semi_join = false;
    bool has_typeof = false;
};

// Parses `text` and resolves its names against the schema. `for_push_topic` lets through the
// constructs that only PushTopic validation rejects (so it can report its own texts).
bool parse(std::string_view text, const schema& s, query& out, error& err,
           bool for_push_topic = false);

// Whether a record satisfies the WHERE clause (true when there is none).
[[nodiscard]] bool matches(const query& q, const record& r);
[[nodiscard]] bool matches(const condition& c, const object_def& o, const record& r);

// Sorts by the ORDER BY clause (stable; no-op without one).
void sort(const query& q, std::vector<const record*>& rows);

} // namespace sfbridge::sim::soql
