#include "sim/rest.hpp"

#include "core/json_writer.hpp"
#include "sim/ids.hpp"
#include "sim/record_json.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>

namespace sfbridge::sim {
namespace od = simdjson::ondemand;

namespace {

constexpr int oldest_version = 20;
constexpr int newest_version = 62;
constexpr std::size_t max_cursors = 1000;

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

// Turns each relationship given by a parent's external id into the lookup field's value: the
// parent's Id. The error names the key that matched no record, or several.
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

// The start and end of the updated/ and deleted/ resources; the error response when missing.
std::optional<response> replication_window(std::string_view query_string, std::int64_t& start,
                                           std::int64_t& end) {
    const auto qs = parse_form(query_string);
    auto s = qs.find("start"), e = qs.find("end");
    if (s == qs.end() || e == qs.end() || !parse_datetime(s->second, start) ||
        !parse_datetime(e->second, end))
        return rest_error(http::status::bad_request, "INVALID_REPLICATION_DATE",
                          "start and end must be valid dateTimes");
    return std::nullopt;
}

void write_save_result(json::writer& w, const std::string& id, const sf_error* err,
                       std::optional<bool> created = std::nullopt) {
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

// The select list for a GET of one record: ?fields=A,B or every field.
bool chosen_fields(const object_def& o, std::string_view query_string, std::vector<int>& out,
                   response& error) {
    const auto qs = parse_form(query_string);
    auto it = qs.find("fields");
    if (it == qs.end()) {
        for (std::size_t i = 0; i < o.fields.size(); ++i)
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

response rest_api::versions() {
    std::string body;
    json::writer w(body);
    w.begin_array();
    static constexpr const char* seasons[] = {"Winter", "Spring", "Summer"};
    for (int v = oldest_version; v <= newest_version; ++v) {
        const int k = v - oldest_version;
        const std::string version = std::to_string(v) + ".0";
        char label[32];
        std::snprintf(label, sizeof label, "%s '%02d", seasons[k % 3], 11 + k / 3);
        w.begin_object()
            .member("label", label)
            .member("url", "/services/data/v" + version)
            .member("version", version)
            .end_object();
    }
    w.end_array();
    return json_response(http::status::ok, std::move(body));
}

response rest_api::handle(const request& req, std::string_view version,
                          const std::vector<std::string>& seg, std::string_view query_string) {
    const int major = major_of(version);
    if (major < oldest_version || major > newest_version)
        return not_found();
    const auto method = req.method();
    if (seg.empty()) {
        std::string body;
        json::writer w(body);
        const std::string base = "/services/data/v" + std::string(version);
        w.begin_object();
        for (const char* r : {"sobjects", "query", "queryAll", "composite", "limits", "jobs"})
            w.member(r, base + "/" + r);
        w.end_object();
        return json_response(http::status::ok, std::move(body));
    }
    const std::string& head = seg[0];
    if (head == "limits")
        return limits();
    if (head == "query" || head == "queryAll") {
        if (method != http::verb::get)
            return method_not_allowed(req);
        if (seg.size() == 1)
            return query(req, version, query_string, head == "queryAll");
        if (seg.size() == 2)
            return query_more(version, seg[1]);
        return not_found();
    }
    if (head == "composite" && seg.size() >= 2 && seg[1] == "sobjects")
        return collections(req, seg, query_string);
    if (head != "sobjects")
        return not_found();
    if (seg.size() == 1)
        return method == http::verb::get ? describe_global(version) : method_not_allowed(req);
    const object_def* o = data_.objects().find(seg[1]);
    if (!o)
        return not_found();
    if (seg.size() == 2) {
        if (method == http::verb::get)
            return sobject_root(*o, version);
        if (method == http::verb::post)
            return create(*o, req);
        return method_not_allowed(req);
    }
    if (seg.size() == 3 && seg[2] == "describe")
        return method == http::verb::get ? json_response(http::status::ok, o->describe(version))
                                         : method_not_allowed(req);
    if (seg.size() == 3 && seg[2] == "updated")
        return updated(*o, query_string);
    if (seg.size() == 3 && seg[2] == "deleted")
        return deleted(*o, query_string);
    if (seg.size() == 3)
        return by_id(req, *o, seg[2], version, query_string);
    if (seg.size() == 4)
        return by_external_id(req, *o, seg[2], seg[3], version);
    return not_found();
}

response rest_api::describe_global(std::string_view version) {
    std::string body;
    json::writer w(body);
    const std::string base = "/services/data/v" + std::string(version) + "/sobjects/";
    w.begin_object().member("encoding", "UTF-8").member("maxBatchSize", 200);
    w.key("sobjects").begin_array();
    for (const auto& o : data_.objects().objects()) {
        w.begin_object()
            .member("name", o->name)
            .member("label", o->label)
            .member("labelPlural", o->label_plural)
            .member("keyPrefix", o->key_prefix)
            .member("custom", o->custom)
            .member("createable", o->createable)
            .member("updateable", o->updateable)
            .member("deletable", o->deletable)
            .member("queryable", o->queryable)
            .member("undeletable", o->undeletable)
            .member("replicateable", true)
            .member("retrieveable", true)
            .member("searchable", true)
            .member("triggerable", true);
        w.key("urls")
            .begin_object()
            .member("sobject", base + o->name)
            .member("describe", base + o->name + "/describe")
            .member("rowTemplate", base + o->name + "/{ID}")
            .end_object();
        w.end_object();
    }
    w.end_array().end_object();
    return json_response(http::status::ok, std::move(body));
}

response rest_api::sobject_root(const object_def& o, std::string_view version) {
    std::string body;
    json::writer w(body);
    w.begin_object().key("objectDescribe").begin_object();
    w.member("name", o.name).member("label", o.label).member("keyPrefix", o.key_prefix);
    w.member("custom", o.custom).member("createable", o.createable);
    w.member("updateable", o.updateable).member("deletable", o.deletable);
    w.key("urls")
        .begin_object()
        .member("sobject", "/services/data/v" + std::string(version) + "/sobjects/" + o.name)
        .end_object();
    w.end_object().key("recentItems").begin_array().end_array().end_object();
    return json_response(http::status::ok, std::move(body));
}

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

response rest_api::query(const request& req, std::string_view version,
                         std::string_view query_string, bool all) {
    const auto qs = parse_form(query_string);
    auto q = qs.find("q");
    if (q == qs.end() || q->second.empty())
        return rest_error(http::status::bad_request, "MALFORMED_QUERY",
                          "A query string has to be specified");
    soql::query parsed;
    soql::error perr;
    if (!soql::parse(q->second, data_.objects(), parsed, perr))
        return rest_error(http::status::bad_request, perr.code, perr.message);
    std::vector<const record*> rows;
    for (const auto& r : data_.records(*parsed.object))
        if ((all || !r->deleted) && soql::matches(parsed, *r))
            rows.push_back(r.get());
    soql::sort(parsed, rows);
    const std::size_t offset = static_cast<std::size_t>(parsed.offset.value_or(0));
    rows.erase(rows.begin(), rows.begin() + static_cast<long>(std::min(offset, rows.size())));
    if (parsed.limit && rows.size() > static_cast<std::size_t>(*parsed.limit))
        rows.resize(static_cast<std::size_t>(*parsed.limit));
    if (parsed.count_only) {
        std::string body;
        json::writer w(body);
        w.begin_object()
            .member("totalSize", static_cast<std::int64_t>(rows.size()))
            .member("done", true)
            .key("records")
            .begin_array()
            .end_array()
            .end_object();
        return json_response(http::status::ok, std::move(body));
    }
    // Sforce-Query-Options: batchSize=N, between 200 and 2000 (default 2000).
    std::size_t batch = 2000;
    if (auto it = req.find("Sforce-Query-Options"); it != req.end()) {
        const std::string_view v = it->value();
        const auto pos = v.find("batchSize=");
        if (pos != std::string_view::npos) {
            std::size_t n = 0;
            const auto start = v.data() + pos + 10;
            std::from_chars(start, v.data() + v.size(), n);
            batch = std::clamp<std::size_t>(n, 200, 2000);
        }
    }
    cursor c{parsed.object, parsed.fields, std::move(rows), batch, {}};
    // A locator looks like Salesforce's: a query-locator id and an offset.
    c.id = ids::make("01g", ++cursor_seq_);
    if (c.rows.size() <= batch)
        return page(c, 0, version);
    const std::string key = c.id;
    auto [it, inserted] = cursors_.emplace(key, std::move(c));
    cursor_order_.push_back(key);
    while (cursor_order_.size() > max_cursors) {
        cursors_.erase(cursor_order_.front());
        cursor_order_.pop_front();
    }
    return page(it->second, 0, version);
}

response rest_api::query_more(std::string_view version, const std::string& locator) {
    const auto dash = locator.rfind('-');
    std::size_t offset = 0;
    if (dash == std::string::npos ||
        std::from_chars(locator.data() + dash + 1, locator.data() + locator.size(), offset).ec !=
            std::errc{})
        return rest_error(http::status::bad_request, "INVALID_QUERY_LOCATOR",
                          "invalid query locator");
    auto it = cursors_.find(locator.substr(0, dash));
    if (it == cursors_.end())
        return rest_error(http::status::bad_request, "INVALID_QUERY_LOCATOR",
                          "invalid query locator");
    return page(it->second, offset, version);
}

response rest_api::page(cursor& c, std::size_t offset, std::string_view version) {
    const std::size_t end = std::min(c.rows.size(), offset + c.batch);
    std::string body;
    body.reserve((end - offset) * 256 + 128);
    json::writer w(body);
    w.begin_object();
    w.member("totalSize", static_cast<std::int64_t>(c.rows.size()));
    w.member("done", end >= c.rows.size());
    if (end < c.rows.size())
        w.member("nextRecordsUrl", "/services/data/v" + std::string(version) + "/query/" + c.id +
                                       "-" + std::to_string(end));
    w.key("records").begin_array();
    for (std::size_t i = offset; i < end; ++i)
        write_record(w, *c.object, *c.rows[i], c.fields, version);
    w.end_array().end_object();
    if (end >= c.rows.size())
        cursors_.erase(c.id); // Salesforce drops a locator once read to the end
    return json_response(http::status::ok, std::move(body));
}

response rest_api::updated(const object_def& o, std::string_view query_string) {
    std::int64_t start = 0, end = 0;
    if (auto error = replication_window(query_string, start, end))
        return std::move(*error);
    const std::string from = format_datetime(start), to = format_datetime(end);
    const int stamp = o.index_of("SystemModstamp");
    std::string body;
    json::writer w(body);
    w.begin_object().key("ids").begin_array();
    for (const auto& r : data_.records(o)) {
        if (r->deleted)
            continue;
        const auto& v = std::get<std::string>(r->get(stamp));
        if (v >= from && v <= to)
            w.string(r->id);
    }
    w.end_array().member("latestDateCovered", rest_datetime(to)).end_object();
    return json_response(http::status::ok, std::move(body));
}

response rest_api::deleted(const object_def& o, std::string_view query_string) {
    std::int64_t start = 0, end = 0;
    if (auto error = replication_window(query_string, start, end))
        return std::move(*error);
    std::string body;
    json::writer w(body);
    w.begin_object().key("deletedRecords").begin_array();
    std::int64_t earliest = end;
    for (const auto& d : data_.deletions(o)) {
        earliest = std::min(earliest, d.deleted_ms);
        if (d.deleted_ms >= start && d.deleted_ms <= end)
            w.begin_object()
                .member("id", d.id)
                .member("deletedDate", rest_datetime(format_datetime(d.deleted_ms)))
                .end_object();
    }
    w.end_array();
    w.member("earliestDateAvailable", rest_datetime(format_datetime(earliest)));
    w.member("latestDateCovered", rest_datetime(format_datetime(end)));
    w.end_object();
    return json_response(http::status::ok, std::move(body));
}

response rest_api::limits() {
    std::string body;
    json::writer w(body);
    auto limit = [&](const char* name, std::int64_t max, std::int64_t remaining) {
        w.key(name).begin_object().member("Max", max).member("Remaining", remaining).end_object();
    };
    w.begin_object();
    limit("DailyApiRequests", usage_.max, std::max<std::int64_t>(0, usage_.max - usage_.used));
    limit("DailyBulkV2QueryJobs", 10000, 10000);
    limit("DailyBulkV2QueryFileStorageMB", 976562, 976562);
    limit("DailyDurableStreamingApiEvents", 1000000, 1000000);
    limit("DailyStreamingApiEvents", 1000000, 1000000);
    limit("StreamingApiConcurrentClients", 2000, 2000);
    w.end_object();
    return json_response(http::status::ok, std::move(body));
}

response rest_api::collections(const request& req, const std::vector<std::string>& seg,
                               std::string_view query_string) {
    const auto method = req.method();
    std::string body;
    json::writer w(body);
    write_options wo;
    wo.transaction_key = ids::make("tx0", ++cursor_seq_);

    if (method == http::verb::delete_) {
        const auto qs = parse_form(query_string);
        auto ids_it = qs.find("ids");
        if (ids_it == qs.end() || ids_it->second.empty())
            return rest_error(http::status::bad_request, "REQUIRED_FIELD_MISSING",
                              "At least 1 Id is required.");
        std::vector<std::string> list;
        std::string_view s = ids_it->second;
        while (!s.empty()) {
            const auto comma = s.find(',');
            list.emplace_back(s.substr(0, comma));
            if (comma == std::string_view::npos)
                break;
            s.remove_prefix(comma + 1);
        }
        if (list.size() > 200)
            return rest_error(http::status::bad_request, "EXCEEDED_ID_LIMIT",
                              "record limit reached. cannot submit more than 200 records into "
                              "this call");
        const bool all_or_none = qs.count("allOrNone") && qs.at("allOrNone") == "true";
        std::vector<sf_error> errors(list.size());
        std::vector<bool> ok(list.size(), false);
        if (all_or_none) {
            // Check everything first, so that a failure changes nothing.
            for (std::size_t i = 0; i < list.size(); ++i) {
                const object_def* o = data_.object_of(list[i]);
                const record* r = o ? data_.get(*o, list[i]) : nullptr;
                if (!r)
                    errors[i] = {"INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", {}};
                else if (r->deleted)
                    errors[i] = {"ENTITY_IS_DELETED", "entity is deleted", {}};
            }
        }
        const bool any_error = std::any_of(errors.begin(), errors.end(),
                                           [](const sf_error& e) { return !e.code.empty(); });
        w.begin_array();
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (all_or_none && any_error) {
                sf_error rolled{"ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                "Record rolled back because not all records were valid and the "
                                "request was using AllOrNone header",
                                {}};
                write_save_result(w, list[i], errors[i].code.empty() ? &rolled : &errors[i]);
                continue;
            }
            const object_def* o = data_.object_of(list[i]);
            sf_error err;
            if (!o)
                err = {"MALFORMED_ID", "malformed id " + list[i], {}};
            const bool done = o && data_.remove(*o, list[i], wo, err);
            write_save_result(w, list[i], done ? nullptr : &err);
        }
        w.end_array();
        return json_response(http::status::ok, std::move(body));
    }

    if (method != http::verb::post && method != http::verb::patch)
        return method_not_allowed(req);
    // Upsert: PATCH /composite/sobjects/<Object>/<ExternalIdField>.
    const object_def* upsert_object = nullptr;
    int upsert_field = -1;
    if (seg.size() == 4) {
        if (method != http::verb::patch)
            return method_not_allowed(req);
        upsert_object = data_.objects().find(seg[2]);
        if (!upsert_object)
            return not_found();
        upsert_field = upsert_object->index_of(seg[3]);
        const field_def* f = upsert_field < 0
                                 ? nullptr
                                 : &upsert_object->fields[static_cast<std::size_t>(upsert_field)];
        if (!f || !(f->external_id || f->id_lookup) || f->type == field_type::id)
            return rest_error(http::status::bad_request, "INVALID_FIELD",
                              "Field name provided, " + seg[3] +
                                  " is not an External ID or indexed field for " +
                                  upsert_object->name);
    } else if (seg.size() != 2) {
        return not_found();
    }

    od::parser parser;
    simdjson::padded_string padded(req.body());
    od::document doc;
    response error;
    if (!parse_body(parser, padded, doc, error))
        return error;
    bool all_or_none = false;
    struct item {
        const object_def* o = nullptr;
        std::vector<field_value> in;
        record_envelope env;
        sf_error err;
    };
    std::vector<item> items;
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
                item it;
                od::object obj;
                if (e.get_object().get(obj))
                    return rest_error(http::status::bad_request, "JSON_PARSER_ERROR",
                                      "each record must be an object");
                // The type comes first in attributes; read the whole object against it.
                std::string_view raw;
                if (obj.raw_json().get(raw))
                    return rest_error(http::status::bad_request, "JSON_PARSER_ERROR",
                                      "unreadable record");
                od::parser inner;
                simdjson::padded_string rp(raw);
                od::document rd;
                od::object ro;
                // First pass: attributes.type (and id).
                if (inner.iterate(rp).get(rd) || rd.get_object().get(ro))
                    return rest_error(http::status::bad_request, "JSON_PARSER_ERROR",
                                      "unreadable record");
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
                        if (!a.unescaped_key().get(ak) && ak == "type" &&
                            !a.value().get_string().get(av))
                            type = std::string(av);
                    }
                }
                it.o = upsert_object ? upsert_object : data_.objects().find(type);
                if (!it.o) {
                    it.err = {"INVALID_TYPE",
                              type.empty() ? "No SObject Type defined in attributes"
                                           : "sObject type '" + type + "' is not supported",
                              {}};
                } else {
                    od::document rd2;
                    od::object ro2;
                    if (inner.iterate(rp).get(rd2) || rd2.get_object().get(ro2) ||
                        !read_record(*it.o, ro2, it.in, it.env, it.err) ||
                        !resolve_references(data_, it.env, it.in, it.err)) {
                        if (it.err.code.empty())
                            it.err = {"JSON_PARSER_ERROR", "unreadable record", {}};
                    }
                }
                items.push_back(std::move(it));
            }
        }
    }
    if (items.size() > 200)
        return rest_error(http::status::bad_request, "EXCEEDED_ID_LIMIT",
                          "record limit reached. cannot submit more than 200 records into this "
                          "call");
    const bool creating = method == http::verb::post;
    if (creating)
        for (auto& it : items)
            if (it.err.code.empty() && !it.env.id.empty())
                it.err = {"INVALID_FIELD", "cannot specify Id in an insert call", {"Id"}};
    if (!creating && !upsert_object)
        for (auto& it : items)
            if (it.err.code.empty() && it.env.id.empty())
                it.err = {"MISSING_ARGUMENT", "Id not specified in an update call", {}};

    if (all_or_none) {
        // Check every record first, so that one failure changes nothing.
        for (auto& it : items) {
            if (!it.err.code.empty())
                continue;
            if (upsert_object) {
                std::string key;
                for (const auto& fv : it.in)
                    if (const auto* s = std::get_if<std::string>(&fv.v);
                        s && fv.field == upsert_field)
                        key = *s;
                const auto found = data_.find_by_field(*upsert_object, upsert_field, key);
                if (found.size() == 1)
                    (void)data_.check_update(*upsert_object, found[0]->id, it.in, it.err);
                else
                    (void)data_.check_create(*upsert_object, it.in, it.err);
            } else if (creating) {
                (void)data_.check_create(*it.o, it.in, it.err);
            } else {
                (void)data_.check_update(*it.o, it.env.id, it.in, it.err);
            }
        }
    }
    const bool any_error =
        std::any_of(items.begin(), items.end(), [](const item& i) { return !i.err.code.empty(); });
    w.begin_array();
    for (auto& it : items) {
        if (all_or_none && any_error) {
            sf_error rolled{"ALL_OR_NONE_OPERATION_ROLLED_BACK",
                            "Record rolled back because not all records were valid and the "
                            "request was using AllOrNone header",
                            {}};
            write_save_result(w, it.env.id, it.err.code.empty() ? &rolled : &it.err);
            continue;
        }
        if (!it.err.code.empty()) {
            write_save_result(w, it.env.id, &it.err);
            continue;
        }
        sf_error err;
        if (upsert_object) {
            std::string key;
            for (const auto& fv : it.in)
                if (fv.field == upsert_field)
                    if (const auto* s = std::get_if<std::string>(&fv.v))
                        key = *s;
            if (key.empty()) {
                sf_error missing{
                    "MISSING_ARGUMENT",
                    upsert_object->fields[static_cast<std::size_t>(upsert_field)].name +
                        " not specified",
                    {}};
                write_save_result(w, {}, &missing);
                continue;
            }
            const auto found = data_.find_by_field(*upsert_object, upsert_field, key);
            if (found.size() > 1) {
                sf_error dup{"DUPLICATE_EXTERNAL_ID",
                             "Foreign key external ID: " + key + " matched more than one record",
                             {}};
                write_save_result(w, {}, &dup);
            } else if (found.empty()) {
                const std::string id = data_.create(*upsert_object, std::move(it.in), wo, err);
                write_save_result(w, id, id.empty() ? &err : nullptr,
                                  id.empty() ? std::nullopt : std::optional<bool>(true));
            } else {
                const std::string id = found[0]->id;
                const bool done = data_.update(*upsert_object, id, std::move(it.in), wo, err);
                write_save_result(w, id, done ? nullptr : &err,
                                  done ? std::optional<bool>(false) : std::nullopt);
            }
        } else if (creating) {
            const std::string id = data_.create(*it.o, std::move(it.in), wo, err);
            write_save_result(w, id, id.empty() ? &err : nullptr);
        } else {
            const bool done = data_.update(*it.o, it.env.id, std::move(it.in), wo, err);
            write_save_result(w, it.env.id, done ? nullptr : &err);
        }
    }
    w.end_array();
    return json_response(http::status::ok, std::move(body));
}

} // namespace sfbridge::sim
