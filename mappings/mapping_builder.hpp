#pragma once

#include "mappings/describe.hpp"
#include "mappings/mapping_file.hpp"

#include <optional>
#include <string>
#include <vector>

// `sfbridge mappings add`: a mapping written from an object's describe, as Heroku Connect's
// editor would make it. Pure.
namespace sfbridge::mappings {

struct mapping_request {
    std::vector<std::string> fields; // API names, any case; empty with `all`
    bool all = false;                // every field the describe lists that can be synced
    access_mode access = access_mode::read_only;
};

struct built_mapping {
    mapping m;
    std::vector<std::string> notes; // fields left out or replaced, and why
};

// Id, SystemModstamp and IsDeleted (where the object has it) always, as Heroku Connect makes
// them mandatory; compound address and location fields replaced by their parts; base64 and
// deprecated fields left out with a note. A requested field the describe does not list is an
// error: the describe lists only what the integration user can read, so the error says that
// field-level security may hide it. The mapping streams (sf_notify_enabled) and polls every
// 600 s, Heroku Connect's defaults.
[[nodiscard]] std::optional<built_mapping>
build_mapping(const object_describe& d, const mapping_request& req, std::string& error);

// Adds `m` to `file`; false with `error` when the file maps the object already (in any case).
[[nodiscard]] bool add_mapping(mapping_file& file, mapping m, std::string& error);

} // namespace sfbridge::mappings
