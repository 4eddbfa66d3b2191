#pragma once

#include "sim/formula.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// sfsim's object definitions, read from describe responses (real ones where we have them). The
// describe text is served back as loaded, with its API version made the request's.
namespace sfbridge::sim {

enum class field_type {
    id,
    string,
    boolean,
    integer,
    double_,
    currency,
    percent,
    date,
    datetime,
    time,
    picklist,
    multipicklist,
    combobox,
    reference,
    textarea,
    email,
    phone,
    url,
    base64,
    encryptedstring,
    address,
    location,
    anytype,
    other,
};

[[nodiscard]] field_type parse_field_type(std::string_view describe_type) noexcept;
// True for types whose values are text (compared case-insensitively, limited by length).
[[nodiscard]] bool is_text_type(field_type t) noexcept;
[[nodiscard]] bool is_number_type(field_type t) noexcept;

// A roll-up summary field (sfsim's own definition: a describe does not say how a roll-up is
// computed): `op` (COUNT or SUM) over the live records of `child` whose lookup `via` names the
// record, of the child's `field` for SUM.
struct rollup_def {
    std::string child;
    std::string via;
    std::string op;
    std::string field;
};

struct field_def {
    std::string name;
    std::string lname; // lower case, for case-insensitive lookup
    std::string label; // what Salesforce's error messages call the field
    field_type type = field_type::other;
    std::string type_name;
    int length = 0;
    int precision = 0;
    int scale = 0;
    int digits = 0;
    bool nillable = true;
    bool createable = false;
    bool updateable = false;
    bool defaulted_on_create = false;
    bool calculated = false;
    bool external_id = false;
    bool unique = false;
    bool id_lookup = false;
    bool auto_number = false;
    bool filterable = true;
    bool restricted_picklist = false;
    std::vector<std::string> reference_to;
    std::string relationship_name;
    std::string compound_field_name; // set on the parts of an address or location
    std::vector<std::string> picklist_values;
    std::string default_picklist_value;
    std::optional<bool> default_boolean;
    // Set at run time through the control API (sim/schema_edit.hpp): the value is computed, as
    // Salesforce computes formula and roll-up fields, without touching SystemModstamp.
    formula::expression formula;
    std::optional<rollup_def> rollup;
    // Deleted, or hidden from the integration user: kept so that record values keep their
    // field indexes, but unknown to every lookup and left out of the describe.
    bool hidden = false;
};

struct object_def {
    std::string name;
    std::string key_prefix;
    std::string label;
    std::string label_plural;
    bool custom = false;
    bool createable = true;
    bool updateable = true;
    bool deletable = true;
    bool queryable = true;
    bool undeletable = true;
    std::vector<field_def> fields;
    // The describe response with every "/services/data/vNN.N" replaced by "{{api}}".
    std::string describe_template;

    [[nodiscard]] const field_def* find(std::string_view field) const noexcept;
    [[nodiscard]] int index_of(std::string_view field) const noexcept; // -1 when absent
    [[nodiscard]] bool has_field(std::string_view field) const noexcept {
        return index_of(field) >= 0;
    }
    // The describe as loaded, kept once a field was edited at run time; `field_json` holds the
    // text of each field added or changed since, by lower-case name (sim/schema_edit.hpp).
    std::string loaded_template;
    std::unordered_map<std::string, std::string> field_json;
    // The describe response for API version `version` (e.g. "60.0").
    [[nodiscard]] std::string describe(std::string_view version) const;

    std::unordered_map<std::string, int> by_lname;
};

class schema {
public:
    // Loads every *.json describe in a directory. Throws std::runtime_error naming the file on
    // bad input (this runs at start-up).
    void load_directory(const std::filesystem::path& dir);
    // Loads one describe, or a JSON array of describes; replaces an object of the same name.
    void load_file(const std::filesystem::path& file);
    void load_text(std::string_view json, std::string_view origin);

    [[nodiscard]] const object_def* find(std::string_view name) const noexcept;
    // For run-time edits of an object's fields (sim/schema_edit.hpp).
    [[nodiscard]] object_def* find_mutable(std::string_view name) noexcept;
    [[nodiscard]] const object_def* by_key_prefix(std::string_view prefix) const noexcept;
    [[nodiscard]] const std::vector<std::unique_ptr<object_def>>& objects() const noexcept {
        return objects_;
    }

private:
    void add(std::unique_ptr<object_def> o);
    std::vector<std::unique_ptr<object_def>> objects_;
    std::unordered_map<std::string, std::size_t> by_lname_;
};

// Reads the describe keys of a field object into `f`, leaving the keys it lacks as they are
// (a partial field changes only what it names). False with `error` when it is not an object.
bool read_field(std::string_view json, field_def& f, std::string& error);

[[nodiscard]] std::string to_lower(std::string_view s);
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

} // namespace sfbridge::sim
