// The simulator's control API (/__sim/...), for tests and benchmarks on the same machine: reset,
// stats, OAuth tokens, injected streaming events, faults, Bayeux settings, validation rules,
// and records written as a user or the Bulk API would. One handler per endpoint group,
// dispatched by simulator::control; the generators are in simulator_generate.cpp.
#include "core/json_writer.hpp"
#include "sim/answer_faults.hpp"
#include "sim/ids.hpp"
#include "sim/record_json.hpp"
#include "sim/simulator.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <simdjson.h>

namespace sfbridge::sim {
namespace od = simdjson::ondemand;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string ok_json() {
    return R"({"ok":true})";
}

} // namespace

asio::awaitable<std::optional<response>> simulator::control(request& req, std::string_view path,
                                                            std::string_view query_string) {
    const auto seg = path_segments(path); // "__sim", ...
    const auto method = req.method();
    const std::string what = seg.size() > 1 ? seg[1] : "";
    const bool put_or_post = method == http::verb::put || method == http::verb::post;

    if (what == "reset" && method == http::verb::post) {
        reset();
        co_return json_response(http::status::ok, ok_json());
    }
    if (what == "stats" && method == http::verb::get)
        co_return control_stats();
    if (what == "oauth" && seg.size() == 3 && method == http::verb::post)
        co_return control_oauth(seg[2]);
    if (what == "streaming" && seg.size() == 3 && seg[2] == "inject" && method == http::verb::post)
        co_return control_inject(req);
    if (what == "faults" && seg.size() == 3 && method == http::verb::post)
        co_return control_fault_action(seg[2]);
    if (what == "faults" && put_or_post)
        co_return control_fault_settings(req);
    if (what == "cometd" && put_or_post)
        co_return control_cometd(req);
    if (what == "clock" && put_or_post)
        co_return control_clock(req);
    if (what == "limits" && put_or_post)
        co_return control_limits(req);
    if (what == "cdc" && put_or_post)
        co_return control_cdc(req);
    if (what == "schema" && seg.size() >= 4 && seg[3] == "fields")
        co_return control_schema(req, seg);
    if (what == "validation-rules" && put_or_post)
        co_return control_validation_rules(req);
    if (what == "records" && seg.size() >= 3)
        co_return control_records(req, seg, query_string);
    if (what == "generate" && seg.size() == 3 && method == http::verb::get)
        co_return generator_status(seg[2]);
    if (what == "generate" && method == http::verb::post)
        co_return start_generator(req);
    co_return control_error(http::status::not_found, "unknown control endpoint");
}

// GET /__sim/stats
response simulator::control_stats() {
    std::string out;
    json::writer w(out);
    w.begin_object().key("records").begin_object();
    for (const auto& o : schema_.objects()) {
        std::int64_t live = 0, deleted = 0;
        for (const auto& r : data_->records(*o))
            (r->deleted ? deleted : live) += 1;
        if (live || deleted)
            w.key(o->name)
                .begin_object()
                .member("live", live)
                .member("deleted", deleted)
                .end_object();
    }
    w.end_object();
    w.member("cometdSessions", static_cast<std::int64_t>(cometd_->session_count()));
    w.member("pushTopics", static_cast<std::int64_t>(streams_->push_topic_count()));
    w.member("apiUsage", static_cast<std::int64_t>(usage_.used));
    w.member("apiLimit", static_cast<std::int64_t>(usage_.max));
    w.end_object();
    return json_response(http::status::ok, std::move(out));
}

// POST /__sim/oauth/refresh-token or /__sim/oauth/access-token
response simulator::control_oauth(std::string_view action) {
    std::string out;
    json::writer w(out);
    if (action == "refresh-token")
        w.begin_object().member("refresh_token", auth_->mint_refresh_token()).end_object();
    else if (action == "access-token")
        w.begin_object().member("access_token", auth_->mint_access_token()).end_object();
    else
        return control_error(http::status::not_found, "unknown oauth action");
    return json_response(http::status::ok, std::move(out));
}

// POST /__sim/streaming/inject
response simulator::control_inject(const request& req) {
    // {"channel":"/topic/hc_Contact","type":"updated","sobject":{...}}: the sobject is
    // published as sent, however wrong.
    od::parser parser;
    simdjson::padded_string body(req.body());
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (parser.iterate(body).get(doc) || doc.get_object().get(obj))
        return control_error(http::status::bad_request, "inject: expected a JSON object");
    std::string channel, type = "updated", sobject;
    for (auto m : obj) {
        std::string_view k, v;
        if (m.unescaped_key().get(k))
            return control_error(http::status::bad_request, "inject: bad JSON");
        if (k == "sobject") {
            std::string_view raw;
            simdjson::ondemand::object so;
            if (m.value().get_object().get(so) || so.raw_json().get(raw))
                return control_error(http::status::bad_request,
                                     "inject: sobject must be an object");
            sobject = raw;
        } else if (!m.value().get_string().get(v)) {
            if (k == "channel")
                channel = v;
            else if (k == "type")
                type = v;
        }
    }
    if (channel.empty() || sobject.empty())
        return control_error(http::status::bad_request, "inject: channel and sobject needed");
    const std::int64_t id = streams_->inject(channel, type, sobject);
    std::string out;
    json::writer w(out);
    w.begin_object().member("replayId", id).end_object();
    return json_response(http::status::ok, std::move(out));
}

// POST /__sim/faults/<action>: a fault that happens once.
response simulator::control_fault_action(std::string_view action) {
    if (action == "expire-tokens")
        auth_->expire_all_access_tokens();
    else if (action == "forget-clients")
        cometd_->forget_all_clients();
    else if (action == "lose-retention")
        streams_->lose_retention();
    else if (action == "drop-connections")
        // After this answer is written: the control connection is dropped too.
        asio::co_spawn(
            ex_,
            [this]() -> asio::awaitable<void> {
                asio::steady_timer t(ex_, std::chrono::milliseconds(1));
                (void)co_await t.async_wait(use_tuple);
                drop_connections();
            },
            asio::detached);
    else
        return control_error(http::status::not_found, "unknown fault action");
    return json_response(http::status::ok, ok_json());
}

// PUT or POST /__sim/faults: the faults in force from now on (every one not given is cleared).
response simulator::control_fault_settings(const request& req) {
    od::parser parser;
    simdjson::padded_string body(req.body());
    od::document doc;
    od::object obj;
    if (parser.iterate(body).get(doc) || doc.get_object().get(obj))
        return control_error(http::status::bad_request, "faults: expected a JSON object");
    fault_settings f;
    // The settings are replaced whole: a daily limit not given is the configured one again.
    long api_limit = cfg_.api_daily_limit;
    for (auto m : obj) {
        std::string_view k;
        if (m.unescaped_key().get(k))
            continue;
        od::value v = m.value();
        bool b;
        double d;
        std::int64_t i;
        if (k == "unavailable" && !v.get_bool().get(b))
            f.unavailable = b;
        else if (k == "resetConnections" && !v.get_bool().get(b))
            f.reset_connections = b;
        else if (k == "stall" && !v.get_bool().get(b))
            f.stall = b;
        else if (k == "repeatBulkRows" && !v.get_bool().get(b))
            f.repeat_bulk_rows = b;
        else if (k == "failShare" && !v.get_double().get(d))
            f.fail_share = d;
        else if (k == "lockShare" && !v.get_double().get(d))
            f.lock_share = d;
        else if (k == "delayMs" && !v.get_int64().get(i))
            f.delay = std::chrono::milliseconds(i);
        else if (k == "apiDailyLimit" && !v.get_int64().get(i))
            api_limit = static_cast<long>(i);
        else if (k == "afterApply") {
            std::string error;
            if (!read_answer_fault(v, f.after_apply, error))
                return control_error(http::status::bad_request, "faults: " + error);
        } else if (k == "lockedIds") {
            od::array a;
            if (!v.get_array().get(a))
                for (auto e : a) {
                    std::string_view s;
                    if (!e.get_string().get(s))
                        f.locked_ids.insert(ids::to18(s));
                }
        } else
            return control_error(http::status::bad_request,
                                 "faults: unknown or mistyped setting " + std::string(k));
    }
    faults_ = std::move(f);
    usage_.max = api_limit;
    return json_response(http::status::ok, ok_json());
}

// PUT or POST /__sim/cometd
response simulator::control_cometd(const request& req) {
    // Bayeux settings that tests and benchmarks change at run time.
    od::parser parser;
    simdjson::padded_string body(req.body());
    od::document doc;
    od::object obj;
    if (parser.iterate(body).get(doc) || doc.get_object().get(obj))
        return control_error(http::status::bad_request, "cometd: expected a JSON object");
    for (auto m : obj) {
        std::string_view k;
        std::int64_t v = 0;
        if (m.unescaped_key().get(k) || m.value().get_int64().get(v) || v <= 0)
            return control_error(http::status::bad_request,
                                 "cometd: settings are positive integers");
        if (k == "maxBatch")
            cometd_->config().max_batch = static_cast<std::size_t>(v);
        else if (k == "connectTimeoutMs")
            cometd_->config().connect_timeout = std::chrono::milliseconds(v);
        else if (k == "sessionTimeoutMs")
            cometd_->config().session_timeout = std::chrono::milliseconds(v);
        else
            return control_error(http::status::bad_request,
                                 "cometd: unknown setting " + std::string(k));
    }
    return json_response(http::status::ok, ok_json());
}

// PUT or POST /__sim/clock {"offsetMs": N}: the org's clock runs N ms from the machine's.
response simulator::control_clock(const request& req) {
    od::parser parser;
    simdjson::padded_string body(req.body());
    od::document doc;
    std::int64_t offset = 0;
    if (parser.iterate(body).get(doc) || doc["offsetMs"].get_int64().get(offset))
        return control_error(http::status::bad_request, "clock: expected {\"offsetMs\": N}");
    data_->set_clock_offset(offset);
    return json_response(http::status::ok, ok_json());
}

// PUT or POST /__sim/validation-rules
response simulator::control_validation_rules(const request& req) {
    od::parser parser;
    simdjson::padded_string body(req.body());
    od::document doc;
    od::array arr;
    if (parser.iterate(body).get(doc) || doc.get_array().get(arr))
        return control_error(http::status::bad_request, "validation-rules: expected a JSON array");
    std::vector<validation_rule> rules;
    for (auto e : arr) {
        od::object o;
        if (e.get_object().get(o))
            return control_error(http::status::bad_request, "validation-rules: objects only");
        validation_rule r;
        for (auto m : o) {
            std::string_view k, v;
            if (m.unescaped_key().get(k) || m.value().get_string().get(v))
                continue;
            if (k == "object")
                r.object = std::string(v);
            else if (k == "field")
                r.field = std::string(v);
            else if (k == "equals")
                r.equals = std::string(v);
            else if (k == "message")
                r.message = std::string(v);
        }
        rules.push_back(std::move(r));
    }
    data_->validation_rules() = std::move(rules);
    return json_response(http::status::ok, ok_json());
}

// /__sim/records/<Object>[/<Id>/undelete]
response simulator::control_records(const request& req, const std::vector<std::string>& seg,
                                    std::string_view query_string) {
    // Writes as a Salesforce user would make them (events raised), or with "bulk": true as
    // the Bulk API would (no PushTopic events).
    const object_def* o = schema_.find(seg[2]);
    if (!o)
        return control_error(http::status::not_found, "unknown object " + seg[2]);
    const auto qs = parse_form(query_string);
    write_options wo;
    wo.bulk = qs.count("bulk") && qs.at("bulk") == "true";
    wo.transaction_key = ids::make("tx2", ++generator_seq_);
    if (seg.size() == 5 && seg[4] == "undelete" && req.method() == http::verb::post) {
        sf_error err;
        if (!data_->undelete(*o, seg[3], wo, err))
            return rest_error(http::status::bad_request, err);
        return json_response(http::status::ok, ok_json());
    }
    if (req.method() == http::verb::delete_)
        return remove_records(*o, qs.count("ids") ? std::string_view(qs.at("ids")) : "", wo);
    return write_records(req, *o, wo);
}

// DELETE /__sim/records/<Object>?ids=a,b,c
response simulator::remove_records(const object_def& o, std::string_view list,
                                   const write_options& wo) {
    std::string out;
    json::writer w(out);
    w.begin_array();
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string id(list.substr(0, comma));
        sf_error err;
        const bool ok = data_->remove(o, id, wo, err);
        w.begin_object().member("id", id).member("success", ok);
        if (!ok)
            w.member("error", err.code + ": " + err.message);
        w.end_object();
        if (comma == std::string_view::npos)
            break;
        list.remove_prefix(comma + 1);
    }
    w.end_array();
    return json_response(http::status::ok, std::move(out));
}

// POST (create) or PATCH (update) /__sim/records/<Object> with a JSON array of records; any
// other method only reads them.
response simulator::write_records(const request& req, const object_def& o,
                                  const write_options& wo) {
    od::parser parser;
    simdjson::padded_string body(req.body());
    od::document doc;
    od::array arr;
    if (parser.iterate(body).get(doc) || doc.get_array().get(arr))
        return control_error(http::status::bad_request, "records: expected a JSON array");
    std::string out;
    json::writer w(out);
    w.begin_array();
    for (auto e : arr) {
        od::object obj;
        std::vector<field_value> in;
        record_envelope env;
        sf_error err;
        bool ok = !e.get_object().get(obj) && read_record(o, obj, in, env, err);
        std::string id = env.id;
        if (ok && req.method() == http::verb::post) {
            id = data_->create(o, std::move(in), wo, err);
            ok = !id.empty();
        } else if (ok && req.method() == http::verb::patch) {
            ok = data_->update(o, id, std::move(in), wo, err);
        }
        w.begin_object().member("id", id).member("success", ok);
        if (!ok)
            w.member("error", err.code + ": " + err.message);
        w.end_object();
    }
    w.end_array();
    return json_response(http::status::ok, std::move(out));
}

} // namespace sfbridge::sim
