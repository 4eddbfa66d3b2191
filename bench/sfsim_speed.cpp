// bench/sfsim_speed: sfsim must never be what limits a benchmark. Runs the sfsim executable
// pinned to one core and measures, from this process on another core:
//   - streaming: PushTopic events per second delivered to one long-polling client, for
//     batched replies of 1, 10, 100 and 1000 events (the events are generated first, then
//     replayed with -2, so delivery is measured apart from generation), beside the baseline of
//     plain HTTP round trips per second on the same kind of connection;
//   - Bulk 2.0: 1,000,000 rows from job creation to the last result page, beside the REST
//     query path for the same rows.
// Targets: at least 200,000 events/s (at 1000 per reply) and 1,000,000 rows in under 5 s.
//
// Usage: sfsim_speed --sfsim PATH [--events N] [--rows N] [--sfsim-cpu K] [--cpu K]

#include "bench/sfsim_process.hpp"
#include "bench/support/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/verb.hpp>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using sfbridge::test::http_client;
using sfbridge::test::http_reply;
using clk = std::chrono::steady_clock;

namespace {

struct options {
    std::string sfsim;
    long events = 1000000;
    long rows = 1000000;
    int sfsim_cpu = 0;
    int cpu = 1;
};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "sfsim_speed: %s\n", what.c_str());
    std::exit(1);
}

double seconds_since(clk::time_point t) {
    return std::chrono::duration<double>(clk::now() - t).count();
}

asio::awaitable<void> wait_generator(http_client& c, const std::string& job) {
    for (;;) {
        auto st = co_await c.call(http::verb::get, "/__sim/generate/" + job);
        if (sfbridge::bench::json_field(st.body, "finished") == "true") {
            if (sfbridge::bench::json_field(st.body, "failed") != "0")
                die("the generator failed: " + st.body);
            co_return;
        }
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
        co_await t.async_wait(asio::use_awaitable);
    }
}

asio::awaitable<int> run(asio::io_context& io, const options& o, std::uint16_t port) {
    http_client c(io, port), poll(io, port);
    auto minted = co_await c.call(http::verb::post, "/__sim/oauth/access-token");
    c.token = sfbridge::bench::json_field(minted.body, "access_token");
    poll.token = c.token;
    std::map<std::string, std::string> json;
    json["Content-Type"] = "application/json";

    // --- streaming ---
    auto topic = co_await c.call(
        http::verb::post, "/services/data/v60.0/sobjects/PushTopic",
        R"({"Name":"hc_Bench","Query":"SELECT Id, LastName, Email, Phone, Title FROM Contact","ApiVersion":60.0,"NotifyForFields":"All"})",
        json);
    if (topic.status != 201)
        die("PushTopic: " + topic.body);
    auto t0 = clk::now();
    auto gen = co_await c.call(http::verb::post, "/__sim/generate",
                               R"({"object":"Contact","kind":"create","count":)" +
                                   std::to_string(o.events) + "}");
    co_await wait_generator(c, sfbridge::bench::json_field(gen.body, "generator"));
    const double gen_s = seconds_since(t0);

    // Baseline: plain HTTP round trips on one keep-alive connection.
    const int round_trips = 20000;
    t0 = clk::now();
    for (int i = 0; i < round_trips; ++i) {
        auto r = co_await c.call(http::verb::get, "/services/data/v60.0/limits");
        if (r.status != 200)
            die("limits: " + r.body);
    }
    const double rtt_per_s = round_trips / seconds_since(t0);

    std::printf("sfsim_speed: sfsim on cpu %d, this client on cpu %d\n", o.sfsim_cpu, o.cpu);
    std::printf(
        "generation: %ld creates with PushTopic and CDC events in %.2f s (%.0f changes/s)\n",
        o.events, gen_s, o.events / gen_s);
    std::printf("baseline: %.0f plain HTTP round trips/s (GET /limits, keep-alive)\n\n", rtt_per_s);
    std::printf("%-18s %12s %14s %12s %16s\n", "events per reply", "events", "events/s", "MB/s",
                "vs round trips");
    double best = 0;
    for (long batch : {1L, 10L, 100L, 1000L}) {
        auto set = co_await c.call(http::verb::put, "/__sim/cometd",
                                   R"({"maxBatch":)" + std::to_string(batch) + "}");
        if (set.status != 200)
            die("cometd settings: " + set.body);
        const long want = std::min<long>(o.events, batch * 20000);
        c.cookies.clear();
        auto hs = co_await c.call(
            http::verb::post, "/cometd/60.0",
            R"([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}])",
            json);
        simdjson::dom::parser p;
        simdjson::dom::element hd;
        if (p.parse(hs.body).get(hd))
            die("handshake: " + hs.body);
        const std::string client = std::string(std::string_view(hd.at(0)["clientId"]));
        poll.cookies = c.cookies;
        auto sub = co_await c.call(
            http::verb::post, "/cometd/60.0",
            R"([{"channel":"/meta/subscribe","clientId":")" + client +
                R"(","subscription":"/topic/hc_Bench","ext":{"replay":{"/topic/hc_Bench":-2}}}])",
            json);
        if (sub.body.find("\"successful\":true") == std::string::npos)
            die("subscribe: " + sub.body);
        const std::string connect = R"([{"channel":"/meta/connect","clientId":")" + client +
                                    R"(","connectionType":"long-polling"}])";
        long got = 0;
        std::size_t bytes = 0;
        t0 = clk::now();
        while (got < want) {
            auto r = co_await poll.call(http::verb::post, "/cometd/60.0", connect, json);
            if (r.status != 200)
                die("connect failed");
            got += static_cast<long>(sfbridge::bench::count_events(r.body));
            bytes += r.body.size();
        }
        const double s = seconds_since(t0);
        const double eps = got / s;
        best = std::max(best, eps);
        std::printf("%-18ld %12ld %14.0f %12.1f %15.1fx\n", batch, got, eps, bytes / s / 1e6,
                    eps / rtt_per_s);
        (void)co_await c.call(http::verb::post, "/cometd/60.0",
                              R"([{"channel":"/meta/disconnect","clientId":")" + client + "\"}]",
                              json);
    }

    // --- Bulk 2.0 ---
    const long have = o.events;
    if (o.rows > have) {
        auto more = co_await c.call(http::verb::post, "/__sim/generate",
                                    R"({"object":"Contact","kind":"create","bulk":true,"count":)" +
                                        std::to_string(o.rows - have) + "}");
        co_await wait_generator(c, sfbridge::bench::json_field(more.body, "generator"));
    }
    const std::string soql = "SELECT Id, LastName, Email, Phone, Title, CreatedDate FROM Contact";
    t0 = clk::now();
    auto job = co_await c.call(http::verb::post, "/services/data/v60.0/jobs/query",
                               R"({"operation":"query","query":")" + soql + "\"}", json);
    const std::string id = sfbridge::bench::json_field(job.body, "id");
    if (id.empty())
        die("bulk job: " + job.body);
    while (sfbridge::bench::json_field(
               (co_await c.call(http::verb::get, "/services/data/v60.0/jobs/query/" + id)).body,
               "state") != "JobComplete") {
    }
    long bulk_rows = 0;
    std::string locator;
    do {
        std::string target = "/services/data/v60.0/jobs/query/" + id + "/results?maxRecords=250000";
        if (!locator.empty())
            target += "&locator=" + locator;
        auto page = co_await c.call(http::verb::get, target);
        bulk_rows += std::stol(page.headers["sforce-numberofrecords"]);
        locator = page.headers["sforce-locator"];
    } while (locator != "null");
    const double bulk_s = seconds_since(t0);

    std::string q = soql;
    for (auto& ch : q)
        if (ch == ' ')
            ch = '+';
    t0 = clk::now();
    long rest_rows = 0;
    std::string next = "/services/data/v60.0/query?q=" + q;
    while (!next.empty()) {
        auto page = co_await c.call(http::verb::get, next);
        simdjson::dom::parser p;
        simdjson::dom::element d;
        if (p.parse(page.body).get(d))
            die("query page");
        rest_rows += static_cast<long>(simdjson::dom::array(d["records"]).size());
        std::string_view n;
        next = d["nextRecordsUrl"].get_string().get(n) ? "" : std::string(n);
    }
    const double rest_s = seconds_since(t0);
    std::printf("\n%-34s %10s %10s %14s %10s\n", "path", "rows", "seconds", "rows/s", "vs REST");
    std::printf("%-34s %10ld %10.2f %14.0f %9.1fx\n", "Bulk 2.0 (create, poll, results)", bulk_rows,
                bulk_s, bulk_rows / bulk_s, rest_s / bulk_s);
    std::printf("%-34s %10ld %10.2f %14.0f %9.1fx\n", "baseline: REST query, 2000 a page",
                rest_rows, rest_s, rest_rows / rest_s, 1.0);
    const bool ok = best >= 200000 && bulk_s < 5.0 && bulk_rows == o.rows && rest_rows == o.rows;
    std::printf("\ntargets: >= 200000 events/s (%s), 1000000 rows via Bulk in < 5 s (%s)\n",
                best >= 200000 ? "met" : "MISSED", bulk_s < 5.0 ? "met" : "MISSED");
    co_return (bulk_rows == o.rows && rest_rows == o.rows) ? (ok ? 0 : 3) : 1;
}

} // namespace

int main(int argc, char** argv) {
    const auto b = sfbridge::bench::parse_bench_options(
        argc, argv,
        "usage: sfsim_speed --sfsim PATH [--events N] [--rows N] [--sfsim-cpu K] [--cpu K]",
        1000000, 1000000);
    options o{b.sfsim, b.events, b.rows, b.sfsim_cpu, b.cpu};
    return sfbridge::bench::run_against_sfsim(
        b,
        {"--retention-count", std::to_string(std::max(o.events, 1000000L) * 2), "--api-limit",
         "100000000"},
        [&](asio::io_context& io, std::uint16_t port) { return run(io, o, port); });
}
