#include "bridge/http_api.hpp"

#include "bridge/status_page.hpp"
#include "core/json_writer.hpp"
#include "core/prometheus.hpp"

#include <boost/beast/http/field.hpp>

#include <cctype>

namespace sfbridge::bridge {

namespace http = boost::beast::http;

namespace {

double age_seconds(const status_snapshot& s, std::int64_t then_ms) {
    return static_cast<double>(s.now_ms - then_ms) / 1000.0;
}

std::string mapping_state(const mapping_snapshot& m) {
    // A load retried in the background after failing at start is flagged reloading too.
    if (!m.loaded)
        return m.load_attempts > 0 ? "load failing" : "loading";
    if (m.reloading)
        return "reloading";
    if (m.channel.empty())
        return "polling";
    return m.stream_connected ? "streaming" : "connecting";
}

net::response reply(http::status st, std::string content_type, std::string body) {
    net::response r{st, 11};
    r.set(http::field::content_type, content_type);
    r.set(http::field::cache_control, "no-store");
    r.body() = std::move(body);
    r.prepare_payload();
    return r;
}

net::response json_reply(http::status st, std::string body) {
    return reply(st, "application/json", std::move(body));
}

// A histogram for the status page, which charts quantiles from the change between two reads.
void histogram_json(json::writer& w, const prometheus::histogram& h) {
    w.begin_object();
    w.key("le").begin_array();
    for (const auto b : h.upper_bounds())
        w.number(b);
    w.end_array();
    w.key("cumulative").begin_array();
    for (std::size_t i = 0; i < h.upper_bounds().size(); ++i)
        w.integer(static_cast<std::int64_t>(h.cumulative(i)));
    w.end_array();
    w.key("count").integer(static_cast<std::int64_t>(h.count()));
    w.key("sum").number(h.sum());
    w.end_object();
}

void mapping_json(json::writer& w, const status_snapshot& s, const mapping_snapshot& m) {
    w.begin_object();
    w.member("object", m.object).member("table", m.table).member("state", mapping_state(m));
    w.key("channel");
    if (m.channel.empty())
        w.null();
    else
        w.string(m.channel);
    w.key("read_write").boolean(m.read_write);
    w.key("led_here").boolean(m.led_here);
    w.key("leader");
    if (m.leader.empty())
        w.null();
    else
        w.string(m.leader);
    w.key("loaded").boolean(m.loaded);
    w.key("load_attempts").integer(m.load_attempts);
    if (!m.load_error.empty())
        w.member("load_error", m.load_error);
    w.key("stream_connected").boolean(m.stream_connected);
    w.key("replay_id");
    if (m.replay_id)
        w.integer(*m.replay_id);
    else
        w.null();
    w.key("seconds_since_last_event");
    if (m.last_event_ms)
        w.number(age_seconds(s, m.last_event_ms));
    else
        w.null();
    w.key("seconds_since_last_poll");
    if (m.last_poll_ms)
        w.number(age_seconds(s, m.last_poll_ms));
    else
        w.null();
    w.key("schema_warnings").begin_array();
    for (const auto& warning : m.schema_warnings)
        w.string(warning);
    w.end_array().key("backfilling").begin_array();
    for (const auto& column : m.backfill_columns)
        w.string(column);
    w.end_array();
    // sfbridge_refresh_seconds: null when the mapping does not refresh formula fields.
    w.key("last_refresh");
    if (!m.refreshes) {
        w.null();
    } else {
        w.begin_object().key("seconds_ago");
        if (m.last_refresh.ended_ms)
            w.number(age_seconds(s, m.last_refresh.ended_ms));
        else
            w.null();
        w.key("records").integer(static_cast<std::int64_t>(m.last_refresh.records));
        w.key("changed").integer(static_cast<std::int64_t>(m.last_refresh.changed));
        w.member("api", m.last_refresh.bulk ? "bulk" : "rest");
        w.key("error");
        if (m.last_refresh.error.empty())
            w.null();
        else
            w.string(m.last_refresh.error);
        w.end_object();
    }
    const auto n = [&](std::string_view k, std::size_t v) {
        w.key(k).integer(static_cast<std::int64_t>(v));
    };
    n("rows_loaded", m.stats.rows_loaded);
    n("events", m.stats.events);
    n("polled", m.stats.polled);
    n("polls", m.stats.polls);
    n("deletes", m.stats.deletes);
    n("errors", m.stats.errors);
    w.key("api_calls_today").integer(m.api_calls_today);
    // The newest changes not applied as sent, with their messages (_sfbridge_errors has all).
    w.key("recent_errors").begin_array();
    for (const auto& e : m.stats.recent_errors) {
        w.begin_object();
        w.key("seconds_ago").number(age_seconds(s, e.at_ms));
        w.member("sfid", e.sfid).member("message", e.message);
        w.end_object();
    }
    w.end_array();
    if (m.read_write && s.has_writeback) {
        // Rows the app changed that are not sent yet: NEW (not claimed), PENDING (being sent,
        // or held back after a transient failure). Null before the first count.
        w.key("writeback_queue");
        if (s.writes.queue_counted_ms == 0) {
            w.null();
        } else {
            const auto it = s.writes.queue.find(m.object);
            const waiting_rows q = it == s.writes.queue.end() ? waiting_rows{} : it->second;
            w.begin_object();
            w.key("new").integer(q.fresh);
            w.key("pending").integer(q.pending);
            w.end_object();
        }
    }
    if (!m.channel.empty()) {
        w.key("inbound_latency_seconds");
        histogram_json(w, m.inbound_latency);
    }
    w.end_object();
}

} // namespace

bool authorized(std::string_view header, const std::string& token) {
    if (token.empty())
        return true;
    // The scheme is case-insensitive (RFC 9110 11.1).
    constexpr std::string_view scheme = "bearer ";
    if (header.size() < scheme.size())
        return false;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (static_cast<char>(std::tolower(static_cast<unsigned char>(header[i]))) != scheme[i])
            return false;
    const std::string_view given = header.substr(scheme.size());
    // In constant time for a given length: the comparison does not tell how much matched.
    unsigned char diff = given.size() == token.size() ? 0 : 1;
    for (std::size_t i = 0; i < token.size(); ++i)
        diff |= static_cast<unsigned char>(token[i] ^ (i < given.size() ? given[i] : 0));
    return diff == 0;
}

bool ready(const status_snapshot& s, std::string& body) {
    body.clear();
    json::writer w(body);
    w.begin_object();
    bool ok = !s.starting && !s.stopping && s.dead_loops.empty();
    w.key("not_ready").begin_array();
    const auto why = [&](std::string_view what, std::string_view reason) {
        ok = false;
        w.begin_object().member("what", what).member("reason", reason).end_object();
    };
    if (s.starting)
        why("sfbridge", "starting: login, describes, tables and PushTopics");
    if (s.stopping)
        why("sfbridge", "stopping");
    for (const auto& l : s.dead_loops)
        why(l, "the loop ended");
    for (const auto& m : s.mappings) {
        if (!m.led_here)
            continue; // another replica's (or none yet): its readiness is that replica's
        // The load's error text stays on /status, behind the token: it can quote a value.
        if (!m.loaded)
            why(m.object, m.load_attempts > 0 ? "initial load failing (its error is on /status)"
                                              : "initial load not finished");
        else if (!m.channel.empty() && !m.stream_connected)
            why(m.object, "stream not connected");
    }
    w.end_array();
    w.key("ready").boolean(ok);
    w.end_object();
    return ok;
}

std::string status_json(const status_snapshot& s) {
    std::string out;
    json::writer w(out);
    w.begin_object();
    w.member("version", s.version);
    w.member("state", s.stopping ? "stopping" : s.starting ? "starting" : "running");
    w.key("uptime_seconds").number(age_seconds(s, s.started_ms));
    w.member("replica", s.replica);
    w.key("other_replicas").begin_array();
    for (const auto& r : s.other_replicas)
        w.string(r);
    w.end_array();
    w.key("mappings").begin_array();
    for (const auto& m : s.mappings)
        mapping_json(w, s, m);
    w.end_array();
    w.key("writeback");
    if (!s.has_writeback) {
        w.null();
    } else {
        w.begin_object();
        w.key("sent").integer(static_cast<std::int64_t>(s.writes.sent));
        w.key("failed").integer(static_cast<std::int64_t>(s.writes.failed));
        w.key("retried").integer(static_cast<std::int64_t>(s.writes.retried));
        w.key("conflicts").integer(static_cast<std::int64_t>(s.writes.conflicts));
        // How old the mappings' writeback_queue figures are (null: not counted yet).
        w.key("queue_counted_seconds_ago");
        if (s.writes.queue_counted_ms == 0)
            w.null();
        else
            w.number(static_cast<double>(s.now_ms - s.writes.queue_counted_ms) / 1000.0);
        w.key("latency_seconds").begin_object();
        for (const auto& [object, h] : s.writes.latency) {
            w.key(object);
            histogram_json(w, h);
        }
        w.end_object();
        w.key("recent_refusals").begin_array();
        for (const auto& r : s.writes.refused) {
            w.begin_object();
            w.key("seconds_ago").number(static_cast<double>(s.now_ms - r.at_ms) / 1000.0);
            w.member("mapping", r.mapping).member("action", r.action);
            w.key("record_id").integer(r.record_id);
            w.member("error", r.error);
            w.end_object();
        }
        w.end_array();
        w.key("recent_conflicts").begin_array();
        for (const auto& c : s.writes.recent_conflicts) {
            w.begin_object();
            w.key("seconds_ago").number(static_cast<double>(s.now_ms - c.at_ms) / 1000.0);
            w.member("mapping", c.mapping);
            w.key("record_id").integer(c.record_id);
            w.member("sfid", c.sfid).member("field", c.field);
            w.member("winner", c.salesforce_won ? "salesforce" : "postgres");
            w.end_object();
        }
        w.end_array();
        w.end_object();
    }
    // The charts' samples, oldest first: seconds ago, latency quantiles in seconds, changes/s.
    w.key("recent").begin_array();
    const auto opt = [&](std::string_view k, const std::optional<double>& v) {
        w.key(k);
        if (v)
            w.number(*v);
        else
            w.null();
    };
    for (const auto& x : s.recent) {
        w.begin_object();
        w.key("seconds_ago").number(static_cast<double>(s.now_ms - x.at_ms) / 1000.0);
        opt("inbound_p50", x.inbound_p50);
        opt("inbound_p99", x.inbound_p99);
        opt("outbound_p50", x.outbound_p50);
        opt("outbound_p99", x.outbound_p99);
        w.key("changes_per_second").number(x.changes_per_second);
        w.end_object();
    }
    w.end_array();
    w.key("salesforce_api").begin_object();
    w.key("calls_since_start").integer(s.api_calls_total);
    if (s.org_api_used && s.org_api_max) {
        w.key("org_used_today").integer(*s.org_api_used);
        w.key("org_daily_limit").integer(*s.org_api_max);
    }
    w.end_object();
    w.end_object();
    return out;
}

net::response answer(const net::request& req, const status_snapshot& s, const http_api_options& o) {
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (req.method() != http::verb::get) {
        auto r = json_reply(http::status::method_not_allowed, R"({"error":"only GET"})");
        r.set(http::field::allow, "GET");
        return r;
    }
    if (path == "/healthz") {
        // Alive while draining after SIGTERM too: a failed liveness probe would cut the drain
        // short. Readiness turns 503 then.
        const bool alive = s.dead_loops.empty();
        return json_reply(alive ? http::status::ok : http::status::service_unavailable,
                          alive ? R"({"status":"ok"})" : R"({"status":"unhealthy"})");
    }
    if (path == "/readyz") {
        std::string body;
        const bool ok = ready(s, body);
        return json_reply(ok ? http::status::ok : http::status::service_unavailable,
                          std::move(body));
    }
    if (path == "/") {
        // Without the token: a browser cannot send it on a navigation, and the page holds no
        // data; its script asks /status, with the token given in the URL's fragment.
        auto r = reply(http::status::ok, "text/html; charset=utf-8", std::string(status_page_html));
        r.set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; "
                                         "style-src 'unsafe-inline'; img-src 'self' data:; "
                                         "frame-ancestors 'none'; base-uri 'none'; "
                                         "form-action 'none'");
        return r;
    }
    if (!authorized(req[http::field::authorization], o.token)) {
        auto r = json_reply(http::status::unauthorized, R"({"error":"a bearer token is needed"})");
        r.set(http::field::www_authenticate, "Bearer");
        return r;
    }
    if (path == "/status")
        return json_reply(http::status::ok, status_json(s));
    if (path == "/metrics")
        return reply(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", metrics_text(s));
    return json_reply(http::status::not_found, R"({"error":"no such path"})");
}

} // namespace sfbridge::bridge
