// The REST API's record resources: create, by Id (get, update, delete) and upsert or get by
// external id.
#include "sim/ids.hpp"
#include "sim/rest.hpp"
#include "sim/rest_util.hpp"

#include <simdjson.h>

#include <algorithm>

namespace sfbridge::sim {
namespace od = simdjson::ondemand;

namespace {

// Reads a request body that holds one record; the error response when it cannot.
std::optional<response> read_body_record(const object_def& o, const request& req,
                                         std::vector<field_value>& in, record_envelope& env) {
    od::parser parser;
    simdjson::padded_string padded(req.body());
    od::document doc;
    response error;
    if (!parse_body(parser, padded, doc, error))
        return error;
    od::object obj;
    if (doc.get_object().get(obj))
        return rest_error(http::status::bad_request, "JSON_PARSER_ERROR",
                          "The request body must be a JSON object");
    sf_error err;
    if (!read_record(o, obj, in, env, err))
        return rest_error(http::status::bad_request, err);
    return std::nullopt;
}

// The select list for a GET of one record: ?fields=A,B or every field.
bool chosen_fields(const object_def& o, std::string_view query_string, std::vector<int>& out,
                   response& error) {
    const auto qs = parse_form(query_string);
    auto it = qs.find("fields");
    if (it == qs.end()) {
        for (std::size_t i = 0; i < o.fields.size(); ++i)
            if (!o.fields[i].hidden)
                out.push_back(static_cast<int>(i));
        return true;
    }
    std::string_view list = it->second;
    while (!list.empty()) {
        const auto comma = list.find(',');
        std::string_view name = list.substr(0, comma);
        while (!name.empty() && name.front() == ' ')
            name.remove_prefix(1);
        const int idx = o.index_of(name);
        if (idx < 0) {
            error = rest_error(http::status::bad_request, "INVALID_FIELD",
                               "No such column '" + std::string(name) + "' on sobject of type " +
                                   o.name);
            return false;
        }
        out.push_back(idx);
        if (comma == std::string_view::npos)
            break;
        list.remove_prefix(comma + 1);
    }
    return true;
}

http::status status_for(const sf_error& e) {
    if (e.code == "INVALID_CROSS_REFERENCE_KEY" || e.code == "ENTITY_IS_DELETED")
        return http::status::not_found;
    return http::status::bad_request;
}

} // namespace

response rest_api::create(const object_def& o, const request& req) {
    std::vector<field_value> in;
    record_envelope env;
    sf_error err;
    if (auto error = read_body_record(o, req, in, env))
        return std::move(*error);
    if (!resolve_references(data_, env, in, err))
        return rest_error(http::status::bad_request, err);
    if (!env.id.empty())
        return rest_error(http::status::bad_request, "INVALID_FIELD",
                          "Unable to create/update fields: Id. Please check the security "
                          "settings of this field and verify that it is read/write for your "
                          "profile or permission set.",
                          {"Id"});
    const std::string id = data_.create(o, std::move(in), {}, err);
    if (id.empty())
        return rest_error(http::status::bad_request, err);
    std::string body;
    json::writer w(body);
    write_save_result(w, id, nullptr);
    return json_response(http::status::created, std::move(body));
}

response rest_api::by_id(const request& req, const object_def& o, const std::string& id,
                         std::string_view version, std::string_view query_string) {
    // Anything that is not an id of this object is an external id field name without value.
    if (!ids::valid(id) || id.substr(0, 3) != o.key_prefix) {
        if (o.has_field(id))
            return method_not_allowed(req);
        return not_found();
    }
    const record* r = data_.get(o, id);
    switch (req.method()) {
    case http::verb::get: {
        if (!r || r->deleted)
            return not_found();
        std::vector<int> fields;
        response error;
        if (!chosen_fields(o, query_string, fields, error))
            return error;
        std::string body;
        json::writer w(body);
        write_record(w, o, *r, fields, version);
        return json_response(http::status::ok, std::move(body));
    }
    case http::verb::patch: {
        std::vector<field_value> in;
        record_envelope env;
        sf_error err;
        if (auto error = read_body_record(o, req, in, env))
            return std::move(*error);
        if (!resolve_references(data_, env, in, err))
            return rest_error(http::status::bad_request, err);
        if (!data_.update(o, id, std::move(in), {}, err))
            return rest_error(status_for(err), err);
        return empty_response(http::status::no_content);
    }
    case http::verb::delete_: {
        sf_error err;
        if (!data_.remove(o, id, {}, err))
            return rest_error(status_for(err), err);
        return empty_response(http::status::no_content);
    }
    default:
        return method_not_allowed(req);
    }
}

response rest_api::by_external_id(const request& req, const object_def& o, const std::string& field,
                                  const std::string& key, std::string_view version) {
    const int fi = o.index_of(field);
    const field_def* f = fi < 0 ? nullptr : &o.fields[static_cast<std::size_t>(fi)];
    if (!f || !(f->external_id || f->id_lookup) || f->type == field_type::id)
        return rest_error(http::status::not_found, "NOT_FOUND",
                          "Provided external ID field does not exist or is not accessible: " +
                              field);
    const auto matches = data_.find_by_field(o, fi, key);
    if (matches.size() > 1) {
        std::string body;
        json::writer w(body);
        w.begin_array();
        for (const record* r : matches)
            w.string("/services/data/v" + std::string(version) + "/sobjects/" + o.name + "/" +
                     r->id);
        w.end_array();
        return json_response(http::status::multiple_choices, std::move(body));
    }
    if (req.method() == http::verb::get) {
        if (matches.empty())
            return not_found();
        std::vector<int> all;
        for (std::size_t i = 0; i < o.fields.size(); ++i)
            if (!o.fields[i].hidden)
                all.push_back(static_cast<int>(i));
        std::string body;
        json::writer w(body);
        write_record(w, o, *matches[0], all, version);
        return json_response(http::status::ok, std::move(body));
    }
    if (req.method() != http::verb::patch)
        return method_not_allowed(req);
    std::vector<field_value> in;
    record_envelope env;
    sf_error err;
    if (auto error = read_body_record(o, req, in, env))
        return std::move(*error);
    if (!resolve_references(data_, env, in, err))
        return rest_error(http::status::bad_request, err);
    // The key in the URL is the value of the external id field.
    in.erase(std::remove_if(in.begin(), in.end(),
                            [fi](const field_value& fv) { return fv.field == fi; }),
             in.end());
    std::string id;
    bool created = false;
    if (matches.empty()) {
        in.push_back({fi, key});
        id = data_.create(o, std::move(in), {}, err);
        if (id.empty())
            return rest_error(http::status::bad_request, err);
        created = true;
    } else {
        id = matches[0]->id;
        if (!data_.update(o, id, std::move(in), {}, err))
            return rest_error(status_for(err), err);
    }
    // From API 46.0 an update answers 200 with a body; before, 204 with none.
    if (!created && major_of(version) < 46)
        return empty_response(http::status::no_content);
    std::string body;
    json::writer w(body);
    write_save_result(w, id, nullptr,
                      major_of(version) >= 46 ? std::optional<bool>(created) : std::nullopt);
    return json_response(created ? http::status::created : http::status::ok, std::move(body));
}

} // namespace sfbridge::sim
