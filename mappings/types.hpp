#pragma once

#include <optional>
#include <string>
#include <string_view>

// Salesforce field types to Postgres column types, as Heroku Connect creates them (reference
// heroku-connect.md 1.2 and 1.5, reconstructed from real DDL). Pure.
namespace sfbridge::mappings {

// What the mapping needs of a field's describe.
struct sf_field_info {
    std::string name;
    std::string type;            // describe "type": string, picklist, textarea, double, ...
    int length = 0;              // describe "length"
    std::string extra_type_info; // "plaintextarea", "richtextarea", ...
    bool html_formatted = false;
};

// The column type, e.g. "varchar(80)", "text", "double precision", "timestamp"; nullopt for
// compound address and location fields, which Heroku Connect flattens into their parts (each
// part is a field of its own).
[[nodiscard]] std::optional<std::string> postgres_type(const sf_field_info& f);

// The column of a field: its API name in lower case (Heroku Connect's convention), as a
// Postgres identifier (pg_identifier).
[[nodiscard]] std::string column_name(std::string_view sf_name);

// A name Postgres keeps whole: at most 63 bytes (NAMEDATALEN - 1). Postgres cuts a longer one
// silently, so two long names that share their first 63 bytes (the unique indexes of two long
// columns, a managed package object's triggers) would become one, and a lookup by the full name
// would find nothing. A longer name keeps its first 54 bytes, then "_" and 8 hex digits of a
// hash (FNV-1a) of the whole: the same wherever it is built, DDL or lookup.
[[nodiscard]] std::string pg_identifier(std::string_view name);

// An identifier quoted for SQL ("user", "my""col"). Every identifier sfbridge writes into SQL
// goes through this, reserved word or not.
[[nodiscard]] std::string quote_identifier(std::string_view name);

} // namespace sfbridge::mappings
