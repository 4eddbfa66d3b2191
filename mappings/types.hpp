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

// The column of a field: its API name in lower case (Heroku Connect's convention).
[[nodiscard]] std::string column_name(std::string_view sf_name);

// An identifier quoted for SQL ("user", "my""col"). Every identifier sfbridge writes into SQL
// goes through this, reserved word or not.
[[nodiscard]] std::string quote_identifier(std::string_view name);

} // namespace sfbridge::mappings
