#include "bridge/http_api.hpp"
#include "bridge/http_endpoint.hpp"
#include "bridge/loop_death.hpp"
#include "bridge/status_history.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace sfbridge;
namespace http = boost::beast::http;

namespace {

bridge::status_snapshot running_snapshot() {
    bridge::status_snapshot s;
    s.version = "0.1.0";
    s.now_ms = 1'000'000;
    s.started_ms = 990'000;
    s.starting = false;
    bridge::mapping_snapshot a;
    a.object = "Contact";
    a.table = "contact";
    a.channel = "/topic/hc_Contact";
    a.read_write = true;
    a.led_here = true;
    a.leader = "host-1-abcdef";
    a.loaded = true;
    a.stream_connected = true;
    a.replay_id = 42;
    a.last_event_ms = 999'500;
    a.last_poll_ms = 998'000;
    a.stats.events = 7;
    a.stats.polled = 3;
    a.stats.polls = 2;
    a.stats.errors = 1;
    a.api_calls_today = 12;
    bridge::mapping_snapshot b;
    b.object = "Account";
    b.table = "account";
    b.led_here = true;
    b.leader = "host-1-abcdef";
    b.loaded = true; // polled only: no stream to wait for
    s.mappings = {a, b};
    s.has_writeback = true;
    s.writes.sent = 5;
    s.writes.conflicts = 1;
    s.api_calls_total = 30;
    s.resident_bytes = 4096;
    s.open_fds = 9;
    return s;
}

net::response get(const std::string& target, const bridge::status_snapshot& s,
                  const std::string& token = {}, const std::string& auth = {}) {
    net::request req{http::verb::get, target, 11};
    if (!auth.empty())
        req.set(http::field::authorization, auth);
    bridge::http_api_options o;
    o.token = token;
    return bridge::answer(req, s, o);
}

} // namespace

TEST_CASE("readiness waits for every load and every stream, and says what is missing",
          "[unit][http]") {
    auto s = running_snapshot();
    auto r = get("/readyz", s);
    CHECK(r.result() == http::status::ok);
    CHECK(r.body() == R"({"not_ready":[],"ready":true})");

    s.mappings[0].stream_connected = false;
    s.mappings[1].loaded = false;
    s.mappings[1].load_attempts = 2;
    s.mappings[1].load_error = "describe failed";
    r = get("/readyz", s);
    CHECK(r.result() == http::status::service_unavailable);
    CHECK(r.body() == R"x({"not_ready":[{"what":"Contact","reason":"stream not connected"},)x"
                      R"x({"what":"Account","reason":"initial load failing (its error is on )x"
                      R"x(/status)"}],"ready":false})x");
    CHECK(r.body().find("describe failed") == std::string::npos); // the text needs the token

    // A mapping another replica leads is that replica's to load and stream: a standby is ready.
    s = running_snapshot();
    s.mappings[1].led_here = false;
    s.mappings[1].leader = "host-2-123456";
    s.mappings[1].loaded = false;
    r = get("/readyz", s);
    CHECK(r.result() == http::status::ok);

    s = running_snapshot();
    s.starting = true;
    r = get("/readyz", s);
    CHECK(r.result() == http::status::service_unavailable);
    CHECK(r.body().find("starting") != std::string::npos);
    s = running_snapshot();
    s.stopping = true;
    CHECK(get("/readyz", s).result() == http::status::service_unavailable);
}

TEST_CASE("health fails once a loop that runs until the stop has ended, not while draining",
          "[unit][http]") {
    auto s = running_snapshot();
    CHECK(get("/healthz", s).result() == http::status::ok);
    s.starting = true; // alive while starting: the probe must not kill a slow start
    CHECK(get("/healthz", s).result() == http::status::ok);
    s.dead_loops = {"poll Contact"};
    CHECK(get("/healthz", s).result() == http::status::service_unavailable);
    s = running_snapshot();
    s.stopping = true; // draining after SIGTERM: a failed liveness probe would cut it short
    CHECK(get("/healthz", s).result() == http::status::ok);
    CHECK(bridge::runs_until_stop("stream"));
    CHECK(bridge::runs_until_stop("poll Contact"));
    CHECK(bridge::runs_until_stop("writeback"));
    CHECK_FALSE(bridge::runs_until_stop("load Contact"));
    CHECK_FALSE(bridge::runs_until_stop("reload Contact"));
}

TEST_CASE("a token guards every path but the probes", "[unit][http]") {
    const auto s = running_snapshot();
    const std::string token = "s3cret-token";
    CHECK(get("/healthz", s, token).result() == http::status::ok);
    CHECK(get("/readyz", s, token).result() == http::status::ok);
    auto r = get("/metrics", s, token);
    CHECK(r.result() == http::status::unauthorized);
    CHECK(r[http::field::www_authenticate] == "Bearer");
    CHECK(r.body().find(token) == std::string::npos);
    CHECK(get("/status", s, token, "Bearer wrong").result() == http::status::unauthorized);
    CHECK(get("/status", s, token, "Bearer s3cret-toke").result() == http::status::unauthorized);
    CHECK(get("/status", s, token, "Basic s3cret-token").result() == http::status::unauthorized);
    CHECK(get("/status", s, token, "Bearer " + token).result() == http::status::ok);
    CHECK(get("/status", s, token, "bearer " + token).result() == http::status::ok);
    CHECK(get("/status", s, token, "Bear").result() == http::status::unauthorized);
    CHECK(get("/metrics?x=1", s, token, "Bearer " + token).result() == http::status::ok);
    CHECK(get("/nowhere", s, token, "Bearer " + token).result() == http::status::not_found);
    net::request post{http::verb::post, "/status", 11};
    r = bridge::answer(post, s, {});
    CHECK(r.result() == http::status::method_not_allowed);
    CHECK(r[http::field::allow] == "GET");
}

TEST_CASE("the status JSON has every mapping's state, ages and counts", "[unit][http]") {
    auto s = running_snapshot();
    s.mappings[1].loaded = false;
    s.mappings[1].reloading = true; // a load retried in the background is flagged so too
    const auto body = bridge::status_json(s);
    CHECK(body.starts_with(R"({"version":"0.1.0","state":"running","uptime_seconds":10,)"));
    CHECK(body.find(R"("object":"Contact","table":"contact","state":"streaming",)") !=
          std::string::npos);
    CHECK(body.find(R"("replay_id":42,"seconds_since_last_event":0.5,)"
                    R"("seconds_since_last_poll":2,)") != std::string::npos);
    CHECK(body.find(R"("object":"Account","table":"account","state":"loading","channel":null)") !=
          std::string::npos);
    s.mappings[1].load_attempts = 2;
    CHECK(bridge::status_json(s).find(R"("state":"load failing")") != std::string::npos);
    CHECK(body.find(R"("writeback":{"sent":5,"failed":0,"retried":0,"conflicts":1,)") !=
          std::string::npos);
    CHECK(get("/status", s).result() == http::status::ok);
    // The newest errors, with their messages.
    s.mappings[0].stats.recent_errors.push_back(
        {999'000, "003000000000001AAA", "NUL characters removed from field LastName"});
    CHECK(bridge::status_json(s).find(
              R"("recent_errors":[{"seconds_ago":1,"sfid":"003000000000001AAA",)"
              R"("message":"NUL characters removed from field LastName"}])") != std::string::npos);
}

TEST_CASE("the status and the metrics show the write-back's queue and its recent conflicts",
          "[unit][http]") {
    auto s = running_snapshot();
    // Before the write-back has counted: no figure, rather than a zero that is not known.
    CHECK(bridge::status_json(s).find(R"("recent_errors":[],"writeback_queue":null,)") !=
          std::string::npos);
    CHECK(bridge::metrics_text(s).find("sfbridge_writeback_queue_rows") == std::string::npos);
    s.writes.queue_counted_ms = 999'000;
    s.writes.queue["Contact"] = {3, 2};
    s.writes.recent_conflicts.push_back(
        {998'000, "Contact", 17, "003000000000001AAA", "LastName", true});
    const auto body = bridge::status_json(s);
    CHECK(body.find(R"("writeback_queue":{"new":3,"pending":2})") != std::string::npos);
    CHECK(body.find(R"("queue_counted_seconds_ago":1,)") != std::string::npos);
    // Account is read-only: no queue of its own.
    CHECK(body.find(R"("object":"Account")") != std::string::npos);
    CHECK(body.find(R"("writeback_queue")", body.find(R"("object":"Account")")) ==
          std::string::npos);
    CHECK(body.find(R"("recent_conflicts":[{"seconds_ago":2,"mapping":"Contact","record_id":17,)"
                    R"("sfid":"003000000000001AAA","field":"LastName","winner":"salesforce"}])") !=
          std::string::npos);
    const auto text = bridge::metrics_text(s);
    CHECK(text.find("sfbridge_writeback_queue_rows{mapping=\"Contact\",state=\"new\"} 3\n") !=
          std::string::npos);
    CHECK(text.find("sfbridge_writeback_queue_rows{mapping=\"Contact\",state=\"pending\"} 2\n") !=
          std::string::npos);
    CHECK(text.find("sfbridge_writeback_queue_rows{mapping=\"Account\"") == std::string::npos);
    CHECK(text.find("sfbridge_writeback_queue_counted_timestamp_seconds 999\n") !=
          std::string::npos);
    // A mapping with nothing waiting shows zeros once counted.
    s.writes.queue.clear();
    CHECK(bridge::status_json(s).find(R"("writeback_queue":{"new":0,"pending":0})") !=
          std::string::npos);
}

TEST_CASE("the metrics name every mapping's series and leave out what is unknown", "[unit][http]") {
    const auto text = bridge::metrics_text(running_snapshot());
    const auto has = [&](const std::string& line) {
        return text.find(line + "\n") != std::string::npos;
    };
    CHECK(has(R"(sfbridge_build_info{version="0.1.0"} 1)"));
    CHECK(has(R"(sfbridge_changes_applied_total{mapping="Contact",source="stream"} 7)"));
    CHECK(has(R"(sfbridge_changes_applied_total{mapping="Contact",source="poll"} 3)"));
    CHECK(has(R"(sfbridge_stream_connected{mapping="Contact"} 1)"));
    CHECK(has(R"(sfbridge_replay_id{mapping="Contact"} 42)"));
    CHECK(has(R"(sfbridge_seconds_since_last_event{mapping="Contact"} 0.5)"));
    CHECK(has(R"(sfbridge_errors_recorded_total{mapping="Contact"} 1)"));
    CHECK(has(R"(sfbridge_writes_total{direction="outbound",result="success"} 5)"));
    CHECK(has(R"(sfbridge_conflicts_total 1)"));
    CHECK(has(R"(sfbridge_inbound_latency_seconds_bucket{mapping="Contact",le="+Inf"} 0)"));
    CHECK(has(R"(process_resident_memory_bytes 4096)"));
    CHECK(has("# TYPE sfbridge_inbound_stage_seconds histogram"));
    CHECK(has(
        R"(sfbridge_inbound_stage_seconds_bucket{mapping="Contact",stage="queue",le="+Inf"} 0)"));
    CHECK(has(R"(sfbridge_inbound_stage_seconds_count{mapping="Contact",stage="batch"} 0)"));
    CHECK(has("# TYPE sfbridge_polls_total counter"));
    // Account is polled only and has had no event: no stream or event-age series.
    CHECK_FALSE(has(R"(sfbridge_stream_connected{mapping="Account"} 0)"));
    CHECK(text.find(R"(sfbridge_seconds_since_last_event{mapping="Account"})") ==
          std::string::npos);
    const auto r = get("/metrics", running_snapshot());
    CHECK(r[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");

    // A commit of 0.3 ms falls in the bucket of 0.5 ms, not in that of 0.25 ms.
    auto s = running_snapshot();
    s.mappings[0].stages.commit.observe(0.0003);
    const auto observed = bridge::metrics_text(s);
    CHECK(
        observed.find(
            R"(sfbridge_inbound_stage_seconds_bucket{mapping="Contact",stage="commit",le="0.00025"} 0)") !=
        std::string::npos);
    CHECK(
        observed.find(
            R"(sfbridge_inbound_stage_seconds_bucket{mapping="Contact",stage="commit",le="0.0005"} 1)") !=
        std::string::npos);
    // Account is polled only: no stage series.
    CHECK(observed.find(R"(sfbridge_inbound_stage_seconds_count{mapping="Account")") ==
          std::string::npos);
}

TEST_CASE("the listen address is read with a clear error", "[unit][http]") {
    auto ep = bridge::parse_listen_address("127.0.0.1:9090");
    CHECK(ep.address().to_string() == "127.0.0.1");
    CHECK(ep.port() == 9090);
    ep = bridge::parse_listen_address("[::1]:0");
    CHECK(ep.address().to_string() == "::1");
    ep = bridge::parse_listen_address(":9090");
    CHECK(ep.address().is_loopback());
    CHECK(bridge::parse_listen_address("0.0.0.0:80").address().is_unspecified());
    CHECK_THROWS_WITH(bridge::parse_listen_address("9090"), Catch::Contains("no port"));
    CHECK_THROWS_WITH(bridge::parse_listen_address("localhost:9090"),
                      Catch::Contains("not an IP address"));
    CHECK_THROWS_WITH(bridge::parse_listen_address("127.0.0.1:70000"),
                      Catch::Contains("from 0 to 65535"));
    CHECK_THROWS_WITH(bridge::parse_listen_address("127.0.0.1:x"),
                      Catch::Contains("from 0 to 65535"));
}

TEST_CASE("the process's memory and descriptors are read", "[unit][http]") {
    double rss = 0, fds = 0;
    bridge::read_process_figures(rss, fds);
    CHECK(rss > 0);
    CHECK(fds >= 3); // stdin, stdout, stderr at least
}

TEST_CASE("the status page's samples take quantiles and rates over their windows", "[unit][http]") {
    prometheus::histogram before({0.001, 0.01, 0.1}), after({0.001, 0.01, 0.1});
    after.observe(0.005); // seen before the window: left out below
    before = after;
    for (int i = 0; i < 98; ++i)
        after.observe(0.0005);
    after.observe(0.05);
    after.observe(0.05);
    // 100 in the window: 98 in the first bucket, 2 in the third.
    const auto p50 = bridge::quantile_between(after, before, 0.5);
    REQUIRE(p50);
    CHECK(*p50 == Approx(0.001 * 50.0 / 98.0));
    const auto p99 = bridge::quantile_between(after, before, 0.99);
    REQUIRE(p99);
    CHECK(*p99 == Approx(0.01 + 0.09 * 0.5));
    CHECK_FALSE(bridge::quantile_between(before, before, 0.5)); // nothing observed
    prometheus::histogram other({0.5});
    CHECK_FALSE(bridge::quantile_between(after, other, 0.5)); // other bounds

    bridge::status_history hist(3, 2);
    auto s = running_snapshot();
    s.mappings.pop_back(); // Contact only: 7 streamed + 3 polled, 5 written
    hist.add(s);
    REQUIRE(hist.samples().size() == 1);
    CHECK_FALSE(hist.samples()[0].inbound_p50); // no window yet
    s.now_ms += 2000;
    s.mappings[0].stats.events += 20;
    s.mappings[0].inbound_latency.observe(0.002);
    hist.add(s);
    CHECK(hist.samples().back().changes_per_second == Approx(10.0));
    REQUIRE(hist.samples().back().inbound_p50);
    CHECK(*hist.samples().back().inbound_p50 > 0.001);
    CHECK(*hist.samples().back().inbound_p50 <= 0.0025);
    s.now_ms += 1000;
    hist.add(s); // the window (two samples back) still holds the observation
    CHECK(hist.samples().back().inbound_p50);
    s.now_ms += 1000;
    hist.add(s); // and now no longer
    CHECK_FALSE(hist.samples().back().inbound_p50);
    s.now_ms += 1000;
    hist.add(s);
    CHECK(hist.samples().size() == 3); // the capacity
    CHECK_FALSE(hist.samples().back().inbound_p50);
    CHECK(hist.samples().back().changes_per_second == 0);
}

TEST_CASE("the status page is served without the token and holds no data", "[unit][http]") {
    const auto s = running_snapshot();
    const auto r = get("/", s, "s3cret-token");
    CHECK(r.result() == http::status::ok);
    CHECK(r[http::field::content_type] == "text/html; charset=utf-8");
    CHECK(r.body().find("<title>sfbridge</title>") != std::string::npos);
    CHECK(r.body().find("Contact") == std::string::npos); // the data comes from /status
    CHECK(r.body().find("http://") == std::string::npos); // nothing fetched from elsewhere
    CHECK(r.body().find("https://") == std::string::npos);
    CHECK_FALSE(r["Content-Security-Policy"].empty());
}
