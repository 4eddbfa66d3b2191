#pragma once

#include "mappings/types.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// What sfbridge needs of a Salesforce describe (GET /sobjects/X/describe): the object's
// capabilities and, per field, its type and what may be done with it. Parsed once at start-up
// from the JSON Salesforce returns. Pure.
namespace sfbridge::mappings {

struct field_describe {
    sf_field_info info; // name, type, length, extraTypeInfo, htmlFormatted
    bool createable = false;
    bool updateable = false;
    bool nillable = true;
    bool external_id = false;
    bool unique = false;
    bool id_lookup = false;
    bool calculated = false;
    bool filterable = true;           // may appear in a WHERE clause
    bool defaulted_on_create = false; // Salesforce gives it a value when a create leaves it out
    bool deprecated_and_hidden = false;
    std::string compound_field_name; // BillingAddress for BillingCity
    std::string relationship_name;   // Account for AccountId
    std::vector<std::string> reference_to;
};

struct object_describe {
    std::string name;
    std::string key_prefix;
    bool queryable = true;
    bool createable = false;
    bool updateable = false;
    bool deletable = false;
    bool replicateable = true;
    std::vector<field_describe> fields;

    // A field by API name, case-insensitively (SOQL and Heroku Connect exports are not strict
    // about case); nullptr when the object has no such field.
    [[nodiscard]] const field_describe* field(std::string_view api_name) const noexcept;
};

// Parses one object's describe; nullopt with `error` when the JSON is not a describe.
[[nodiscard]] std::optional<object_describe> parse_describe(std::string_view json,
                                                            std::string& error);

} // namespace sfbridge::mappings
