// The REST API's routing, the versions list and the describes. Records are in
// rest_records.cpp, queries and replication in rest_query.cpp, sObject Collections in
// rest_collections.cpp.
#include "sim/rest.hpp"

#include "core/json_writer.hpp"
#include "sim/rest_util.hpp"

namespace sfbridge::sim {

namespace {

constexpr int oldest_version = 20;
constexpr int newest_version = 62;

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
    if (head == "tooling" && seg.size() == 2 && seg[1] == "query")
        return method == http::verb::get ? tooling_query(query_string) : method_not_allowed(req);
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

// The Tooling API's query, for one object only: PlatformEventChannelMember, the objects
// selected for Change Data Capture (each as its change event entity, on ChangeEvents).
response rest_api::tooling_query(std::string_view query_string) {
    const auto qs = parse_form(query_string);
    const auto q = qs.find("q");
    if (q == qs.end() || q->second.empty())
        return rest_error(http::status::bad_request, "MALFORMED_QUERY",
                          "A query string has to be specified");
    if (to_lower(q->second).find(" from platformeventchannelmember") == std::string::npos)
        return rest_error(http::status::bad_request, "INVALID_TYPE",
                          "sfsim's Tooling API knows only PlatformEventChannelMember");
    std::string body;
    json::writer w(body);
    std::int64_t n = 0;
    w.begin_object().key("records").begin_array();
    for (const auto& o : data_.objects().objects()) {
        if (o->name == "PushTopic" || !data_.cdc_selected(o->name))
            continue;
        const std::string entity = o->name.ends_with("__c")
                                       ? o->name.substr(0, o->name.size() - 3) + "__ChangeEvent"
                                       : o->name + "ChangeEvent";
        w.begin_object();
        w.key("attributes")
            .begin_object()
            .member("type", "PlatformEventChannelMember")
            .end_object();
        w.member("EventChannel", "ChangeEvents").member("SelectedEntity", entity);
        w.end_object();
        ++n;
    }
    w.end_array().member("size", n).member("totalSize", n).member("done", true);
    w.member("entityTypeName", "PlatformEventChannelMember").end_object();
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

} // namespace sfbridge::sim
