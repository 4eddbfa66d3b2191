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
    bool grouped = false; // written in parentheses (AND and OR mix only so)
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

// The condition as SOQL, for a WHERE clause: every AND, OR and NOT inside another in
// parentheses.
[[nodiscard]] std::string filter_soql(const filter_node& n);

// A row's field for filter_matches: its value as Postgres text or NULL, or not known yet (a
// field the app left empty that Salesforce fills on create).
struct filter_value {
    bool known = true;
    std::optional<std::string> value;
};
enum class filter_result { match, no_match, unknown };

// Whether a row matches the condition, with SOQL's meaning: `=`, `!=`, IN and LIKE on text
// ignore (ASCII) case; an empty text is null, a null checkbox false (`= null` on one is
// `= false`); a null field fails every test but `= null`, `!=` and NOT IN. A part over a field
// not known is unknown, and AND, OR and NOT carry unknowns as Kleene's logic does (false AND
// unknown is false). Values are Postgres text (booleans t/f, timestamps
// "2024-01-31 10:00:00.123"); `describe_of` gives a field's describe.
[[nodiscard]] filter_result
filter_matches(const filter_node& n, const std::function<filter_value(std::string_view)>& value_of,
               const std::function<const field_describe*(std::string_view)>& describe_of);

} // namespace sfbridge::mappings
