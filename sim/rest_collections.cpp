// The REST API's sObject Collections (/composite/sobjects): create, update, upsert by external
// id and delete of up to 200 records in one call, each with its own result, or all or none.
#include "core/json_writer.hpp"
#include "sim/ids.hpp"
#include "sim/record_json.hpp"
#include "sim/rest.hpp"
#include "sim/rest_util.hpp"

#include <simdjson.h>

#include <algorithm>
#include <map>

namespace sfbridge::sim {
namespace od = simdjson::ondemand;

namespace {

response too_many_records() {
    return rest_error(http::status::bad_request, "EXCEEDED_ID_LIMIT",
                      "record limit reached. cannot submit more than 200 records into this "
                      "call");
}

sf_error rolled_back() {
    return {"ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "Record rolled back because not all records were valid and the "
            "request was using AllOrNone header",
            {}};
}

// One record of a create, update or upsert, as read from the body; `err` is set when it cannot
// be saved.
struct collection_item {
    const object_def* o = nullptr;
    std::vector<field_value> in;
    record_envelope env;
    sf_error err;
};

// An upsert's object and external id field; no object for a create or an update.
struct upsert_target {
    const object_def* object = nullptr;
    int field = -1;
};

// The ids of a DELETE (?ids=a,b,c); the error response when there are none or too many.
std::optional<response> read_delete_ids(const std::map<std::string, std::string>& qs,
                                        std::vector<std::string>& list) {
    auto ids_it = qs.find("ids");
    if (ids_it == qs.end() || ids_it->second.empty())
        return rest_error(http::status::bad_request, "REQUIRED_FIELD_MISSING",
                          "At least 1 Id is required.");
    std::string_view s = ids_it->second;
    while (!s.empty()) {
        const auto comma = s.find(',');
        list.emplace_back(s.substr(0, comma));
        if (comma == std::string_view::npos)
            break;
        s.remove_prefix(comma + 1);
    }
    if (list.size() > 200)
        return too_many_records();
    return std::nullopt;
}

// With allOrNone, every id is checked first, so that a failure changes nothing.
std::vector<sf_error> check_deletes(const org& data, const std::vector<std::string>& list) {
    std::vector<sf_error> errors(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
        const object_def* o = data.object_of(list[i]);
        const record* r = o ? data.get(*o, list[i]) : nullptr;
        if (!r)
            errors[i] = {"INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", {}};
        else if (r->deleted)
            errors[i] = {"ENTITY_IS_DELETED", "entity is deleted", {}};
    }
    return errors;
}

// DELETE /composite/sobjects?ids=...[&allOrNone=true]
response delete_records(org& data, std::string_view query_string, const write_options& wo) {
    const auto qs = parse_form(query_string);
    std::vector<std::string> list;
    if (auto error = read_delete_ids(qs, list))
        return std::move(*error);
    const bool all_or_none = qs.count("allOrNone") && qs.at("allOrNone") == "true";
    std::vector<sf_error> errors(list.size());
    if (all_or_none)
        errors = check_deletes(data, list);
    const bool any_error = std::any_of(errors.begin(), errors.end(),
                                       [](const sf_error& e) { return !e.code.empty(); });
    std::string body;
    json::writer w(body);
    w.begin_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (all_or_none && any_error) {
            const sf_error rolled = rolled_back();
            write_save_result(w, list[i], errors[i].code.empty() ? &rolled : &errors[i]);
            continue;
        }
        const object_def* o = data.object_of(list[i]);
        sf_error err;
        if (!o)
            err = {"MALFORMED_ID", "malformed id " + list[i], {}};
        const bool done = o && data.remove(*o, list[i], wo, err);
        write_save_result(w, list[i], done ? nullptr : &err);
    }
    w.end_array();
    return json_response(http::status::ok, std::move(body));
}

// Upsert: PATCH /composite/sobjects/<Object>/<ExternalIdField>. The error response when the
// path, the method or the field is wrong.
std::optional<response> read_upsert_target(const org& data, const request& req,
                                           const std::vector<std::string>& seg, upsert_target& t) {
    if (seg.size() == 4) {
        if (req.method() != http::verb::patch)
            return method_not_allowed(req);
        t.object = data.objects().find(seg[2]);
        if (!t.object)
            return not_found();
        t.field = t.object->index_of(seg[3]);
        const field_def* f =
            t.field < 0 ? nullptr : &t.object->fields[static_cast<std::size_t>(t.field)];
        if (!f || !(f->external_id || f->id_lookup) || f->type == field_type::id)
            return rest_error(http::status::bad_request, "INVALID_FIELD",
                              "Field name provided, " + seg[3] +
                                  " is not an External ID or indexed field for " + t.object->name);
    } else if (seg.size() != 2) {
        return not_found();
    }
    return std::nullopt;
}

// A record's attributes.type, or empty.
std::string attributes_type(od::object ro) {
    std::string type;
    for (auto m : ro) {
        std::string_view k;
        if (m.unescaped_key().get(k) || k != "attributes")
            continue;
        od::object attrs;
        if (m.value().get_object().get(attrs))
            break;
        for (auto a : attrs) {
            std::string_view ak, av;
            if (!a.unescaped_key().get(ak) && ak == "type" && !a.value().get_string().get(av))
                type = std::string(av);
        }
    }
    return type;
}

// Reads one record of the body into `it` (its error set when it cannot be saved); the error
// response when the body cannot be read at all.
std::optional<response> read_collection_record(const org& data,
                                               simdjson::simdjson_result<od::value> e,
                                               const object_def* upsert_object,
                                               collection_item& it) {
    od::object obj;
    if (e.get_object().get(obj))
        return rest_error(http::status::bad_request, "JSON_PARSER_ERROR",
                          "each record must be an object");
    // The type comes first in attributes; read the whole object against it.
    std::string_view raw;
    if (obj.raw_json().get(raw))
        return rest_error(http::status::bad_request, "JSON_PARSER_ERROR", "unreadable record");
    od::parser inner;
    simdjson::padded_string rp(raw);
    od::document rd;
    od::object ro;
    // First pass: attributes.type (and id).
    if (inner.iterate(rp).get(rd) || rd.get_object().get(ro))
        return rest_error(http::status::bad_request, "JSON_PARSER_ERROR", "unreadable record");
    const std::string type = attributes_type(ro);
    it.o = upsert_object ? upsert_object : data.objects().find(type);
    if (!it.o) {
        it.err = {"INVALID_TYPE",
                  type.empty() ? "No SObject Type defined in attributes"
                               : "sObject type '" + type + "' is not supported",
                  {}};
        return std::nullopt;
    }
    od::document rd2;
    od::object ro2;
    if (inner.iterate(rp).get(rd2) || rd2.get_object().get(ro2) ||
        !read_record(*it.o, ro2, it.in, it.env, it.err) ||
        !resolve_references(data, it.env, it.in, it.err)) {
        if (it.err.code.empty())
            it.err = {"JSON_PARSER_ERROR", "unreadable record", {}};
    }
    return std::nullopt;
}

// The body of a create, update or upsert: {"allOrNone": bool, "records": [...]}. The error
// response when it cannot be read.
std::optional<response> read_collection(const org& data, const request& req,
                                        const object_def* upsert_object, bool& all_or_none,
                                        std::vector<collection_item>& items) {
    od::parser parser;
    simdjson::padded_string padded(req.body());
    od::document doc;
    response error;
    if (!parse_body(parser, padded, doc, error))
        return error;
    od::object root;
    if (doc.get_object().get(root))
        return rest_error(http::status::bad_request, "JSON_PARSER_ERROR",
                          "The request body must be a JSON object");
    for (auto member : root) {
        std::string_view key;
        if (member.unescaped_key().get(key))
            continue;
        if (key == "allOrNone") {
            if (member.value().get_bool().get(all_or_none))
                return rest_error(http::status::bad_request, "JSON_PARSER_ERROR",
                                  "allOrNone must be a boolean");
        } else if (key == "records") {
            od::array arr;
            if (member.value().get_array().get(arr))
                return rest_error(http::status::bad_request, "JSON_PARSER_ERROR",
                                  "records must be an array");
            for (auto e : arr) {
                collection_item it;
                if (auto record_error = read_collection_record(data, e, upsert_object, it))
                    return record_error;
                items.push_back(std::move(it));
            }
        }
    }
    return std::nullopt;
}

// What is wrong before anything is checked against the data: an Id in an insert, no Id in an
// update.
void check_ids(std::vector<collection_item>& items, bool creating, bool upserting) {
    if (creating)
        for (auto& it : items)
            if (it.err.code.empty() && !it.env.id.empty())
                it.err = {"INVALID_FIELD", "cannot specify Id in an insert call", {"Id"}};
    if (!creating && !upserting)
        for (auto& it : items)
            if (it.err.code.empty() && it.env.id.empty())
                it.err = {"MISSING_ARGUMENT", "Id not specified in an update call", {}};
}

// The value an upsert's record gives its external id field (the last one, if several), or empty.
std::string upsert_key(const std::vector<field_value>& in, int field) {
    std::string key;
    for (const auto& fv : in)
        if (fv.field == field)
            if (const auto* s = std::get_if<std::string>(&fv.v))
                key = *s;
    return key;
}

// With allOrNone, every record is checked first, so that one failure changes nothing.
void check_saves(org& data, std::vector<collection_item>& items, const upsert_target& t,
                 bool creating) {
    for (auto& it : items) {
        if (!it.err.code.empty())
            continue;
        if (t.object) {
            const auto found = data.find_by_field(*t.object, t.field, upsert_key(it.in, t.field));
            if (found.size() == 1)
                (void)data.check_update(*t.object, found[0]->id, it.in, it.err);
            else
                (void)data.check_create(*t.object, it.in, it.err);
        } else if (creating) {
            (void)data.check_create(*it.o, it.in, it.err);
        } else {
            (void)data.check_update(*it.o, it.env.id, it.in, it.err);
        }
    }
}

// Saves one record by its external id: created when the key matches no record, updated when it
// matches one.
void upsert_one(org& data, collection_item& it, const upsert_target& t, const write_options& wo,
                json::writer& w) {
    const std::string key = upsert_key(it.in, t.field);
    if (key.empty()) {
        sf_error missing{"MISSING_ARGUMENT",
                         t.object->fields[static_cast<std::size_t>(t.field)].name +
                             " not specified",
                         {}};
        write_save_result(w, {}, &missing);
        return;
    }
    sf_error err;
    const auto found = data.find_by_field(*t.object, t.field, key);
    if (found.size() > 1) {
        sf_error dup{"DUPLICATE_EXTERNAL_ID",
                     "Foreign key external ID: " + key + " matched more than one record",
                     {}};
        write_save_result(w, {}, &dup);
    } else if (found.empty()) {
        const std::string id = data.create(*t.object, std::move(it.in), wo, err);
        write_save_result(w, id, id.empty() ? &err : nullptr,
                          id.empty() ? std::nullopt : std::optional<bool>(true));
    } else {
        const std::string id = found[0]->id;
        const bool done = data.update(*t.object, id, std::move(it.in), wo, err);
        write_save_result(w, id, done ? nullptr : &err,
                          done ? std::optional<bool>(false) : std::nullopt);
    }
}

void create_one(org& data, collection_item& it, const write_options& wo, json::writer& w) {
    sf_error err;
    const std::string id = data.create(*it.o, std::move(it.in), wo, err);
    write_save_result(w, id, id.empty() ? &err : nullptr);
}

void update_one(org& data, collection_item& it, const write_options& wo, json::writer& w) {
    sf_error err;
    const bool done = data.update(*it.o, it.env.id, std::move(it.in), wo, err);
    write_save_result(w, it.env.id, done ? nullptr : &err);
}

// Saves the records in order and answers one result for each; with allOrNone and an error
// anywhere, nothing is saved and every record is rolled back.
response save_records(org& data, std::vector<collection_item>& items, bool all_or_none,
                      const upsert_target& t, bool creating, const write_options& wo) {
    const bool any_error = std::any_of(
        items.begin(), items.end(), [](const collection_item& i) { return !i.err.code.empty(); });
    std::string body;
    json::writer w(body);
    w.begin_array();
    for (auto& it : items) {
        if (all_or_none && any_error) {
            const sf_error rolled = rolled_back();
            write_save_result(w, it.env.id, it.err.code.empty() ? &rolled : &it.err);
            continue;
        }
        if (!it.err.code.empty())
            write_save_result(w, it.env.id, &it.err);
        else if (t.object)
            upsert_one(data, it, t, wo, w);
        else if (creating)
            create_one(data, it, wo, w);
        else
            update_one(data, it, wo, w);
    }
    w.end_array();
    return json_response(http::status::ok, std::move(body));
}

} // namespace

response rest_api::collections(const request& req, const std::vector<std::string>& seg,
                               std::string_view query_string) {
    const auto method = req.method();
    write_options wo;
    wo.transaction_key = ids::make("tx0", ++cursor_seq_);
    if (method == http::verb::delete_)
        return delete_records(data_, query_string, wo);
    if (method != http::verb::post && method != http::verb::patch)
        return method_not_allowed(req);
    upsert_target target;
    if (auto error = read_upsert_target(data_, req, seg, target))
        return std::move(*error);
    bool all_or_none = false;
    std::vector<collection_item> items;
    if (auto error = read_collection(data_, req, target.object, all_or_none, items))
        return std::move(*error);
    if (items.size() > 200)
        return too_many_records();
    const bool creating = method == http::verb::post;
    check_ids(items, creating, target.object != nullptr);
    if (all_or_none)
        check_saves(data_, items, target, creating);
    return save_records(data_, items, all_or_none, target, creating, wo);
}

} // namespace sfbridge::sim
