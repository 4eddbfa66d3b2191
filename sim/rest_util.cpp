// The REST API's shared helpers (sim/rest_util.hpp): error answers, the version number, JSON
// bodies, references by external id and save results.
#include "sim/rest_util.hpp"

#include <charconv>

namespace sfbridge::sim {
namespace od = simdjson::ondemand;

response not_found() {
    return rest_error(http::status::not_found, "NOT_FOUND",
                      "The requested resource does not exist");
}

response method_not_allowed(const request& req) {
    return rest_error(http::status::method_not_allowed, "METHOD_NOT_ALLOWED",
                      "HTTP Method '" + std::string(req.method_string()) +
                          "' not allowed. Allowed are GET,HEAD,PATCH,POST,DELETE");
}

int major_of(std::string_view version) {
    int major = 0;
    const auto dot = version.find('.');
    if (dot == std::string_view::npos || version.substr(dot) != ".0")
        return 0;
    std::from_chars(version.data(), version.data() + dot, major);
    return major;
}

// Parses a JSON body into a document; returns false (with the error response) if it is not
// JSON.
bool parse_body(od::parser& p, simdjson::padded_string& padded, od::document& doc,
                response& error) {
    if (p.iterate(padded).get(doc)) {
        error = rest_error(http::status::bad_request, "JSON_PARSER_ERROR",
                           "Unexpected character: the request body is not valid JSON");
        return false;
    }
    return true;
}

bool resolve_references(const org& data, const record_envelope& env, std::vector<field_value>& in,
                        sf_error& err) {
    for (const auto& ref : env.references) {
        const object_def* parent = data.objects().find(ref.parent);
        const int f = parent ? parent->index_of(ref.external_field) : -1;
        if (f < 0 || !(parent->fields[static_cast<std::size_t>(f)].external_id ||
                       parent->fields[static_cast<std::size_t>(f)].id_lookup)) {
            err = {"INVALID_FIELD",
                   "Field name provided, " + ref.external_field +
                       " is not an External ID or "
                       "indexed field for " +
                       ref.parent,
                   {}};
            return false;
        }
        const auto found = data.find_by_field(*parent, f, ref.key);
        if (found.size() != 1) {
            err = {"INVALID_FIELD",
                   "Foreign key external ID: " + ref.key +
                       (found.empty() ? " not found" : " matched more than one record") +
                       " for field " + parent->fields[static_cast<std::size_t>(f)].name +
                       " in entity " + parent->name,
                   {}};
            return false;
        }
        std::erase_if(in, [&](const field_value& fv) { return fv.field == ref.lookup_field; });
        in.push_back({ref.lookup_field, value(found[0]->id)});
    }
    return true;
}

void write_save_result(json::writer& w, const std::string& id, const sf_error* err,
                       std::optional<bool> created) {
    w.begin_object();
    if (!id.empty())
        w.member("id", id);
    w.member("success", err == nullptr);
    w.key("errors").begin_array();
    if (err) {
        w.begin_object();
        w.member("statusCode", err->code).member("message", err->message);
        w.key("fields").begin_array();
        for (const auto& f : err->fields)
            w.string(f);
        w.end_array().end_object();
    }
    w.end_array();
    if (created)
        w.member("created", *created);
    w.end_object();
}

} // namespace sfbridge::sim
