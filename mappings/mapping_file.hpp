#pragma once

#include "mappings/json_value.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Heroku Connect's mapping export (version 1), read and written. Unknown keys are kept, at
// every level, so a file made by a newer Heroku Connect survives a round trip. Output is
// canonical: sorted keys, mappings sorted by object name, stable indentation, so two exports of
// one configuration are byte-identical. Pure: text in, text out.
namespace sfbridge::mappings {

enum class access_mode { read_only, read_write };

struct mapping {
    std::string object_name;
    access_mode access = access_mode::read_only;
    bool sf_notify_enabled = false;
    std::int64_t sf_polling_seconds = 600;
    std::int64_t sf_max_daily_api_calls = 30000;
    std::map<std::string, json_value> fields;           // name -> options ({} today)
    std::optional<std::map<std::string, bool>> indexes; // name -> unique; absent in old exports
    std::optional<std::string> upsert_field;
    json_value::object extra_config; // config keys we do not model (revision, applied_at, ...)
    json_value::object extra;        // mapping keys we do not model

    friend bool operator==(const mapping&, const mapping&) = default;
};

struct mapping_file {
    std::int64_t version = 1;
    std::optional<json_value> connection; // kept as exported
    std::vector<mapping> mappings;
    json_value::object extra;

    friend bool operator==(const mapping_file&, const mapping_file&) = default;
};

// Reads an export. On failure returns nullopt and `errors` says what is wrong, naming the
// mapping and the key.
[[nodiscard]] std::optional<mapping_file> read_mapping_file(std::string_view json,
                                                            std::vector<std::string>& errors);
// The canonical text of a mapping file.
[[nodiscard]] std::string write_mapping_file(const mapping_file& f);

} // namespace sfbridge::mappings
