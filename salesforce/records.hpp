#pragma once

#include "core/value_kind.hpp"

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Salesforce records as JSON (REST query pages, streaming event payloads) flattened into
// field/value pairs that keep how each value arrived, for the conversion to Postgres values
// (mappings::to_postgres). Nested
// relationship objects and compound fields are skipped (sfbridge queries the flattened parts);
// "attributes" gives the type. simdjson on-demand, one parser reused, values copied out.
namespace sfbridge::salesforce {

struct field_value {
    std::string name;
    sf_value_kind kind = sf_value_kind::json_null;
    std::string raw; // unescaped string, number text, "true"/"false"; empty for null
};

struct flat_record {
    std::string type; // attributes.type, when present
    std::vector<field_value> fields;
    [[nodiscard]] const field_value* get(std::string_view name) const noexcept;
};

struct query_page {
    std::int64_t total_size = 0;
    bool done = true;
    std::string next_records_url;
    std::vector<flat_record> records;
};

class record_reader {
public:
    // A query or queryAll answer. False with `error` when it is not one.
    bool read_page(std::string_view json, query_page& out, std::string& error);
    // One record object, e.g. a PushTopic event's "sobject".
    bool read_record(std::string_view json, flat_record& out, std::string& error);
    // Reads a record from an object already positioned by the caller's own iteration.
    static bool read_object(simdjson::ondemand::object obj, flat_record& out, std::string& error);

private:
    simdjson::ondemand::parser parser_;
    std::string buffer_; // the input copied with simdjson's padding
};

} // namespace sfbridge::salesforce
