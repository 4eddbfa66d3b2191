#pragma once

#include "mappings/describe.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// "sfbridge_filter": a mapping's row filter, a SOQL condition (the part after WHERE). Parsed and
// checked here so that a mistake is reported at start naming the mapping, not by Salesforce on
// the first query; then used twice: written out as SOQL (Salesforce decides what the load, the
// polls and the stream's fetches bring), and evaluated on an app's new row (the write-back
// refuses one outside the filter). Pure.
//
// The grammar is the part of SOQL's WHERE a row filter needs: comparisons (= != <> < <= > >=),
// IN and NOT IN lists, LIKE, AND, OR, NOT and parentheses, over string, number, boolean, null,
// date (2024-01-31) and UTC datetime (2024-01-31T10:00:00Z) literals. Not accepted, each with its
// own error: sub-queries, relationship paths (Account.Name), INCLUDES/EXCLUDES, date literals
// (TODAY, LAST_N_DAYS:7: they move, so the set of rows would change without any record
// changing) and functions.
namespace sfbridge::mappings {

struct filter_literal {
    enum class kind { null, boolean, number, string, date, datetime } k = kind::null;
    std::string text; // the string's value unescaped, else the literal's canonical text
    std::string raw;  // a string as written between its quotes, escapes and all
};

struct filter_node {
    enum class kind { and_, or_, not_, compare, in, not_in, like } k = kind::compare;
    std::vector<filter_node> children; // and_, or_ (two or more), not_ (one)
    std::string field;                 // API name, as the describe spells it once checked
    std::string op;                    // compare: = != < <= > >= ("<>" is read as "!=")
    std::vector<filter_literal> values;
};

// Parses `text`; nullopt with `error` naming what is wrong and where (the character offset).
[[nodiscard]] std::optional<filter_node> parse_filter(std::string_view text, std::string& error);

// Checks the condition against the mapped fields and renames its fields as the describe spells
// them. `mapped` gives a mapped field's describe by API name (case-insensitively), nullptr when
// the field is not mapped: a filter may only read mapped fields, whose columns the write-back
// can test. Literals must suit the field (a quoted string for text and picklists, a number for
// numbers, true/false for checkboxes, a date or datetime for those; null for any), LIKE applies
// to text only. false with `error` naming the field.
[[nodiscard]] bool
check_filter(filter_node& n, const std::function<const field_describe*(std::string_view)>& mapped,
             std::string& error);

// The condition as SOQL, for a WHERE clause (parenthesised where precedence needs it).
[[nodiscard]] std::string filter_soql(const filter_node& n);

// Whether a row matches the condition, with SOQL's meaning: `=`, `!=`, IN and LIKE on text
// ignore (ASCII) case; a null field fails every test but `= null`, `!=` and NOT IN. `value_of`
// gives a checked field's value as Postgres text (booleans t/f, timestamps
// "2024-01-31 10:00:00.123"), nullopt for NULL, and `describe_of` its describe.
[[nodiscard]] bool
filter_matches(const filter_node& n,
               const std::function<std::optional<std::string>(std::string_view)>& value_of,
               const std::function<const field_describe*(std::string_view)>& describe_of);

// The fields the condition reads, each once, in order of appearance.
[[nodiscard]] std::vector<std::string> filter_fields(const filter_node& n);

} // namespace sfbridge::mappings
