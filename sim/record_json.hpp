#pragma once

#include "core/json_writer.hpp"
#include "sim/org.hpp"

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

// Records in and out of JSON, with Salesforce's value formats.
namespace sfbridge::sim {

// A lookup given by the parent's external id: {"Account": {"Ext__c": "A-1"}} sets AccountId to
// the Account whose Ext__c is "A-1" (resolved against the org by the caller).
struct reference_by_external_id {
    int lookup_field = -1;      // AccountId
    std::string parent;         // Account
    std::string external_field; // Ext__c
    std::string key;
};

struct record_envelope {
    std::string type; // attributes.type, when given
    std::string id;   // "Id" or "id", when given
    std::vector<reference_by_external_id> references;
};

// Reads a record body: every key must be a field of `o` (or "attributes", or an Id the caller
// allows), every value must suit the field's type. Errors name the field, as Salesforce does.
bool read_record(const object_def& o, simdjson::ondemand::object obj, std::vector<field_value>& out,
                 record_envelope& env, sf_error& err);

// Converts one JSON value for a field. `text` is the value's raw JSON.
bool read_value(const field_def& f, simdjson::ondemand::value v, value& out, sf_error& err);

// Writes a record as REST returns it: "attributes" then the chosen fields in order.
void write_record(json::writer& w, const object_def& o, const record& r,
                  const std::vector<int>& fields, std::string_view api_version);
// Writes one field's value (compound address and location fields are assembled from their
// parts).
void write_value(json::writer& w, const object_def& o, const record& r, int field);

// The value as text, as Bulk API CSV and PushTopic matching need it (datetimes in ISO form
// with Z, numbers in shortest form, booleans as true/false, null as empty).
[[nodiscard]] std::string value_text(const field_def& f, const value& v);

} // namespace sfbridge::sim
