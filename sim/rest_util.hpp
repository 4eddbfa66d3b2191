#pragma once

// Helpers shared by the REST API's files (rest.cpp, rest_records.cpp, rest_query.cpp,
// rest_collections.cpp); private to sim/.

#include "core/json_writer.hpp"
#include "sim/http_util.hpp"
#include "sim/org.hpp"
#include "sim/record_json.hpp"

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::sim {

[[nodiscard]] response not_found();
[[nodiscard]] response method_not_allowed(const request& req);
// The major version of "XX.0"; 0 for anything else.
[[nodiscard]] int major_of(std::string_view version);

// Parses a JSON body into a document; returns false (with the error response) if it is not
// JSON.
bool parse_body(simdjson::ondemand::parser& p, simdjson::padded_string& padded,
                simdjson::ondemand::document& doc, response& error);

// Turns each relationship given by a parent's external id into the lookup field's value: the
// parent's Id. The error names the key that matched no record, or several.
bool resolve_references(const org& data, const record_envelope& env, std::vector<field_value>& in,
                        sf_error& err);

// One save result: {id, success, errors[, created]}.
void write_save_result(json::writer& w, const std::string& id, const sf_error* err,
                       std::optional<bool> created = std::nullopt);

} // namespace sfbridge::sim
