// bench/cometd_throughput: events per second from sfsim through the Bayeux client to a consumer
// that discards them, and the client's CPU time per event, for batched replies of 1 to 1000
// events. sfsim runs pinned to another core. The baseline, measured in the same run, reads the
// same events with a bare HTTP loop that only counts them (no JSON parsing, no session logic).
// Targets: at least 200,000 events/s and under 3 us of client CPU per event.
//
// Usage: cometd_throughput --sfsim PATH [--events N] [--sfsim-cpu K] [--cpu K]

#include "bench/sfsim_process.hpp"
#include "bench/support/http_client.hpp"
#include "cometd/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using sfbridge::test::http_client;
using clk = std::chrono::steady_clock;

namespace {

struct options {
    std::string sfsim;
    long events = 500000;
    int sfsim_cpu = 0;
    int cpu = 1;
};

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct figure {
    double events_per_s;
    double cpu_us_per_event;
};

asio::awaitable<figure> raw_reader(asio::io_context& io, std::uint16_t port, long want) {
    http_client c(io, port), poll(io, port);
    std::map<std::string, std::string> json;
    json["Content-Type"] = "application/json";
    auto token = co_await c.call(http::verb::post, "/__sim/oauth/access-token");
    c.token = poll.token = sfbridge::bench::json_field(token.body, "access_token");
    auto hs = co_await c.call(
        http::verb::post, "/cometd/60.0",
        R"([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}])",
        json);
    simdjson::dom::parser p;
    simdjson::dom::element d;
    if (p.parse(hs.body).get(d))
        throw std::runtime_error("handshake: " + hs.body);
    const std::string client = std::string(std::string_view(d.at(0)["clientId"]));
    poll.cookies = c.cookies;
    (void)co_await c.call(
        http::verb::post, "/cometd/60.0",
        R"([{"channel":"/meta/subscribe","clientId":")" + client +
            R"(","subscription":"/topic/hc_Bench","ext":{"replay":{"/topic/hc_Bench":-2}}}])",
        json);
    const std::string connect = R"([{"channel":"/meta/connect","clientId":")" + client +
                                R"(","connectionType":"long-polling"}])";
    long got = 0;
    const auto t0 = clk::now();
    const double c0 = cpu_seconds();
    while (got < want) {
        auto r = co_await poll.call(http::verb::post, "/cometd/60.0", connect, json);
        got += static_cast<long>(sfbridge::bench::count_events(r.body));
    }
    const double wall = std::chrono::duration<double>(clk::now() - t0).count();
    (void)co_await c.call(http::verb::post, "/cometd/60.0",
                          R"([{"channel":"/meta/disconnect","clientId":")" + client + "\"}]", json);
    co_return figure{got / wall, (cpu_seconds() - c0) * 1e6 / static_cast<double>(got)};
}

asio::awaitable<figure> through_client(asio::io_context& io, std::uint16_t port, long want) {
    sfbridge::cometd::client_config cfg;
    cfg.endpoint = "http://127.0.0.1:" + std::to_string(port) + "/cometd/60.0";
    cfg.channels = {"/topic/hc_Bench"};
    http_client minter(io, port);
    sfbridge::cometd::client c(
        io.get_executor(), cfg, [&](bool) -> asio::awaitable<std::optional<std::string>> {
            auto r = co_await minter.call(http::verb::post, "/__sim/oauth/access-token");
            co_return sfbridge::bench::json_field(r.body, "access_token");
        });
    c.set_committed("/topic/hc_Bench", -2);
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            (void)co_await c.run();
            done = true;
        },
        asio::detached);
    long got = 0;
    clk::time_point t0;
    double c0 = 0;
    std::size_t bytes = 0;
    while (got < want) {
        auto item = co_await c.next();
        if (!item || item->what != sfbridge::cometd::stream_item::kind::event)
            throw std::runtime_error("the stream ended early");
        if (got == 0) {
            t0 = clk::now();
            c0 = cpu_seconds();
        }
        bytes += item->data.size(); // the consumer discards the event
        ++got;
    }
    const double wall = std::chrono::duration<double>(clk::now() - t0).count();
    const double cpu = cpu_seconds() - c0;
    c.stop();
    while (!done) {
        asio::steady_timer t(io, std::chrono::milliseconds(5));
        co_await t.async_wait(asio::use_awaitable);
    }
    (void)bytes;
    co_return figure{(got - 1) / wall, cpu * 1e6 / static_cast<double>(got - 1)};
}

asio::awaitable<int> run(asio::io_context& io, const options& o, std::uint16_t port) {
    http_client c(io, port);
    auto token = co_await c.call(http::verb::post, "/__sim/oauth/access-token");
    c.token = sfbridge::bench::json_field(token.body, "access_token");
    std::map<std::string, std::string> json;
    json["Content-Type"] = "application/json";
    auto topic = co_await c.call(
        http::verb::post, "/services/data/v60.0/sobjects/PushTopic",
        R"({"Name":"hc_Bench","Query":"SELECT Id, LastName, Email, Phone, Title FROM Contact","ApiVersion":60.0,"NotifyForFields":"All"})",
        json);
    if (topic.status != 201)
        throw std::runtime_error("PushTopic: " + topic.body);
    auto gen = co_await c.call(http::verb::post, "/__sim/generate",
                               R"({"object":"Contact","kind":"create","count":)" +
                                   std::to_string(o.events) + "}");
    const std::string job = sfbridge::bench::json_field(gen.body, "generator");
    for (;;) {
        auto st = co_await c.call(http::verb::get, "/__sim/generate/" + job);
        if (st.body.find("\"finished\":true") != std::string::npos)
            break;
        asio::steady_timer t(io, std::chrono::milliseconds(50));
        co_await t.async_wait(asio::use_awaitable);
    }
    std::printf("cometd_throughput: %ld PushTopic events replayed (-2) from sfsim on cpu %d; "
                "client on cpu %d\n\n",
                o.events, o.sfsim_cpu, o.cpu);
    std::printf("%-10s %10s %16s %16s %9s %16s %16s\n", "per reply", "events", "client ev/s",
                "baseline ev/s", "ratio", "client us/ev", "baseline us/ev");
    double best = 0, best_cpu = 1e9;
    for (long batch : {1L, 10L, 100L, 1000L}) {
        (void)co_await c.call(http::verb::put, "/__sim/cometd",
                              R"({"maxBatch":)" + std::to_string(batch) + "}");
        const long want = std::min<long>(o.events, batch * 10000);
        const figure base = co_await raw_reader(io, port, want);
        const figure cl = co_await through_client(io, port, want);
        if (batch == 1000) {
            best = cl.events_per_s;
            best_cpu = cl.cpu_us_per_event;
        }
        std::printf("%-10ld %10ld %16.0f %16.0f %8.2fx %16.2f %16.2f\n", batch, want,
                    cl.events_per_s, base.events_per_s, cl.events_per_s / base.events_per_s,
                    cl.cpu_us_per_event, base.cpu_us_per_event);
    }
    std::printf("\ntargets at 1000 per reply: >= 200000 events/s (%s), < 3 us client CPU per "
                "event (%s)\n",
                best >= 200000 ? "met" : "MISSED", best_cpu < 3.0 ? "met" : "MISSED");
    co_return best >= 200000 && best_cpu < 3.0 ? 0 : 3;
}

} // namespace

int main(int argc, char** argv) {
    const auto b = sfbridge::bench::parse_bench_options(
        argc, argv, "usage: cometd_throughput --sfsim PATH [--events N] [--sfsim-cpu K] [--cpu K]",
        500000, 0);
    options o{b.sfsim, b.events, b.sfsim_cpu, b.cpu};
    return sfbridge::bench::run_against_sfsim(
        b, {"--retention-count", std::to_string(o.events * 2)},
        [&](asio::io_context& io, std::uint16_t port) { return run(io, o, port); });
}
