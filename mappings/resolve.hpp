#pragma once

#include "mappings/describe.hpp"
#include "mappings/mapping_file.hpp"
#include "mappings/options.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// A mapping checked against its object's describe and turned into what the engines and the DDL
// need: columns, Postgres types, which fields may be written, the indexes. Pure.
namespace sfbridge::mappings {

struct mapped_field {
    field_describe sf;
    std::string column;              // "sfid" for Id, else the lower-case API name
    std::string pg_type;             // varchar(80), double precision, ...
    bool writable_on_create = false; // a read-write mapping may send it on insert
    bool writable_on_update = false; // ... and on update
    // Listed in sfbridge_read_only_fields (or "sfbridge_write": false): synced in, never sent.
    bool app_read_only = false;
};

// A Heroku Connect `<relationship>__r__<externalidfield>` column: the app writes a parent's
// external id into it, and the write-back sends it as a relationship reference
// ({"Parent__r": {"External_Id__c": "P-1"}}) so Salesforce sets the lookup itself, which lets a
// child go in the same batch as its parent. Write-only: nothing is read into it from Salesforce.
struct reference_column {
    std::string column;         // parent__r__external_id__c
    std::string relationship;   // Parent__r, as the describe spells it
    std::string lookup_field;   // Parent__c
    std::string parent_object;  // Sim_Everything__c
    std::string external_field; // External_Id__c
    bool writable_on_create = false;
    bool writable_on_update = false;
};

struct index_spec {
    std::string column;
    bool unique = false;
    friend bool operator==(const index_spec&, const index_spec&) = default;
};

struct resolved_mapping {
    mapping config;
    std::string object_name;          // as the describe spells it
    std::string table;                // lower case, unquoted
    std::vector<mapped_field> fields; // Id first, then by API name
    std::vector<reference_column> references;
    std::vector<index_spec> indexes; // sfid and systemmodstamp first
    bool has_isdeleted = false;
    std::optional<std::string> upsert_field; // API name, checked to be an external id
    // Its sfbridge_ options (options.hpp): Change Data Capture instead of a PushTopic, soft
    // deletes, fields never written back.
    mapping_options options;
    // Fields the mapping file names that the describe lacks (deleted in Salesforce, hidden
    // from the integration user) or that are deprecated and hidden: synced without, each named
    // in a warning.
    std::vector<std::string> missing_fields;

    [[nodiscard]] bool read_write() const noexcept {
        return config.access == access_mode::read_write;
    }
    [[nodiscard]] bool soft_deletes() const noexcept {
        return options.deletes == delete_mode::soft;
    }
    // The row filter as SOQL (sfbridge_filter), empty without one.
    [[nodiscard]] std::string filter_soql() const;
    [[nodiscard]] const mapped_field* field(std::string_view api_name) const noexcept;
    [[nodiscard]] bool is_missing(std::string_view api_name) const noexcept;
    // Whether a mapped field is a formula or roll-up summary (`calculated` in the describe):
    // what sfbridge_refresh_seconds refreshes.
    [[nodiscard]] bool has_calculated_fields() const noexcept;
    // sfbridge_refresh_seconds is set and there is something to refresh.
    [[nodiscard]] bool refreshes() const noexcept {
        return options.refresh_seconds > 0 && has_calculated_fields();
    }
    [[nodiscard]] const mapped_field* by_column(std::string_view column) const noexcept;
    [[nodiscard]] const reference_column*
    reference_by_column(std::string_view column) const noexcept;
    // API names of every mapped field, for SOQL select lists.
    [[nodiscard]] std::vector<std::string> field_names() const;
};

// Checks one mapping. Errors (returned as nullopt) and warnings name the mapping and the field:
//  - the object is unknown (no describe) or cannot be queried;
//  - a field is unknown, hidden, or base64 (Salesforce returns those one record at a time);
//  - the upsert_field is not an external id or id-lookup field;
// warnings: a field of a read-write mapping that Salesforce will not let sfbridge write (it
// stays read-only for that field). Id, SystemModstamp and IsDeleted (where the object has it)
// are always mapped; a field named `<Relationship>__r__<ExternalIdField>` whose relationship is a
// lookup of the object becomes a reference column; compound address and location fields are
// replaced by their parts, as Heroku Connect flattens them.
// The CDC channel of an object: /data/AccountChangeEvent, /data/Thing__ChangeEvent.
[[nodiscard]] std::string change_event_channel(std::string_view object_name);

[[nodiscard]] std::optional<resolved_mapping> resolve_mapping(const mapping& m,
                                                              const object_describe* describe,
                                                              std::vector<std::string>& errors,
                                                              std::vector<std::string>& warnings);

} // namespace sfbridge::mappings
