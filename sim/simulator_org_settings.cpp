// The control API's org settings a setup check reads (sfbridge doctor): PUT /__sim/limits sets
// what /limits reports, PUT /__sim/cdc which objects are selected for Change Data Capture (the
// Tooling API's PlatformEventChannelMember rows, and which objects raise change events). And
// the fields an admin changes in Setup: /__sim/schema/<Object>/fields.
#include "core/json_writer.hpp"
#include "sim/http_util.hpp"
#include "sim/schema_edit.hpp"
#include "sim/simulator.hpp"

#include <simdjson.h>

namespace sfbridge::sim {

namespace od = simdjson::ondemand;

namespace {
std::string ok_json() {
    return R"({"ok":true})";
}
} // namespace

// POST /__sim/schema/<Object>/fields {field}: adds or changes a field (sim/schema_edit.hpp);
// DELETE /__sim/schema/<Object>/fields/<Name>: removes one. Edits last until sfsim restarts.
response simulator::control_schema(const request& req, const std::vector<std::string>& seg) {
    object_def* o = schema_.find_mutable(seg[2]);
    if (!o)
        return control_error(http::status::not_found, "schema: no object " + seg[2]);
    std::string error;
    if (req.method() == http::verb::delete_ && seg.size() == 5) {
        const int index = o->index_of(seg[4]);
        if (!hide_field(*o, seg[4], error))
            return control_error(http::status::bad_request, "schema: " + error);
        data_->field_changed(*o, index, std::nullopt);
        return json_response(http::status::ok, ok_json());
    }
    if (req.method() != http::verb::post || seg.size() != 4)
        return control_error(http::status::method_not_allowed, "schema: POST or DELETE");
    field_change change;
    if (!edit_field(schema_, *o, req.body(), change, error))
        return control_error(http::status::bad_request, "schema: " + error);
    data_->field_changed(*o, change.index, change.old_type);
    std::string out;
    json::writer w(out);
    w.begin_object()
        .member("ok", true)
        .member("field", o->fields[static_cast<std::size_t>(change.index)].name)
        .member("added", change.added)
        .end_object();
    return json_response(http::status::ok, std::move(out));
}

// PUT or POST /__sim/limits {"DailyApiRequests": {"Max": 1000, "Remaining": 10}, ...}:
// DailyApiRequests sets the enforced daily limit and what is used of it; any other name sets
// what /limits reports for it.
response simulator::control_limits(const request& req) {
    od::parser parser;
    simdjson::padded_string body(req.body());
    od::document doc;
    od::object obj;
    if (parser.iterate(body).get(doc) || doc.get_object().get(obj))
        return control_error(http::status::bad_request, "limits: expected a JSON object");
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> set;
    for (auto m : obj) {
        std::string_view name;
        od::object limit;
        std::int64_t max = 0, remaining = 0;
        if (m.unescaped_key().get(name) || m.value().get_object().get(limit) ||
            limit["Max"].get_int64().get(max) || limit["Remaining"].get_int64().get(remaining) ||
            max < 0 || remaining < 0 || remaining > max)
            return control_error(http::status::bad_request,
                                 "limits: each limit is {\"Max\": N, \"Remaining\": M}, "
                                 "0 <= M <= N");
        set[std::string(name)] = {max, remaining};
    }
    for (const auto& [name, v] : set) {
        if (name == "DailyApiRequests") {
            usage_.max = static_cast<long>(v.first);
            usage_.used = static_cast<long>(v.first - v.second);
        } else {
            data_->limit_overrides()[name] = v;
        }
    }
    return json_response(http::status::ok, ok_json());
}

// PUT or POST /__sim/cdc {"selected": ["Account", ...]} (or null: every object, the default).
response simulator::control_cdc(const request& req) {
    od::parser parser;
    simdjson::padded_string body(req.body());
    od::document doc;
    od::value v;
    if (parser.iterate(body).get(doc) || doc["selected"].get(v))
        return control_error(http::status::bad_request, "cdc: expected {\"selected\": [...]}");
    if (v.is_null()) {
        data_->cdc_selection().reset();
        return json_response(http::status::ok, ok_json());
    }
    od::array names;
    if (v.get_array().get(names))
        return control_error(http::status::bad_request, "cdc: selected is an array or null");
    std::set<std::string> selected;
    for (auto e : names) {
        std::string_view name;
        if (e.get_string().get(name))
            return control_error(http::status::bad_request, "cdc: object names are strings");
        selected.insert(to_lower(name));
    }
    data_->cdc_selection() = std::move(selected);
    return json_response(http::status::ok, ok_json());
}

} // namespace sfbridge::sim
