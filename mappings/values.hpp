#pragma once

#include "core/value_kind.hpp"
#include "mappings/types.hpp"

#include <optional>
#include <string>
#include <string_view>

// Values between Salesforce and Postgres, as text (the form COPY and query parameters take).
// Pure.
namespace sfbridge::mappings {

// How a value arrived (core/value_kind.hpp).
using sfbridge::sf_value_kind;

// What a conversion did with a value.
enum class conversion : unsigned char {
    ok,      // converted as Salesforce sent it
    altered, // stored changed, `error` says how ("NUL characters removed from field X"):
             // Postgres text cannot hold U+0000, and a record is better kept without it
    refused, // does not fit the field, `error` says why ("X: expected a number, not ...")
};

// Converts one Salesforce value to the Postgres text of the field's column, or nullopt for
// NULL. Datetimes in any of Salesforce's forms (+0000, Z, +01:00) become UTC without a zone
// ("2024-01-31 10:00:00.000"); booleans become t/f; CSV's empty field is NULL. `error` names
// the field when the value is refused or altered. A Bulk CSV value that is not UTF-8 is
// refused (JSON is checked by its parser).
[[nodiscard]] conversion to_postgres(const sf_field_info& f, sf_value_kind kind,
                                     std::string_view raw, std::optional<std::string>& out,
                                     std::string& error);

// How a field's values convert, from its describe type: found once per column by a caller
// that converts many values.
enum class value_class : unsigned char { text, boolean, number, date, datetime, time };
[[nodiscard]] value_class classify(const sf_field_info& f) noexcept;

// The same conversion without allocating (an initial load converts millions of values): `out`
// views `raw` when the text stays as it is (text, numbers, dates), else `scratch`, which the
// caller keeps and reuses; nullopt for NULL.
[[nodiscard]] conversion to_postgres(const sf_field_info& f, value_class c, sf_value_kind kind,
                                     std::string_view raw, std::string& scratch,
                                     std::optional<std::string_view>& out, std::string& error);

// Converts a Postgres column's text (or NULL) to the JSON of a Salesforce write: datetimes as
// 2024-01-31T10:00:00.000Z, booleans and numbers bare, the rest as strings.
bool to_salesforce_json(const sf_field_info& f, const std::optional<std::string>& pg_text,
                        std::string& json_out, std::string& error);

} // namespace sfbridge::mappings
