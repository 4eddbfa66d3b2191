// bench/writeback: an app's writes in Postgres reaching sfsim through sfbridge (the executable).
//  - latency: single-row updates, each its own transaction, at R per second for S seconds; from
//    each commit in Postgres to the record's change in sfsim (its SystemModstamp, same clock);
//    beside the floor measured in the same run: the bench itself sending the same kind of
//    one-record update straight to sfsim's collections API after a Postgres commit.
//  - throughput: N inserts committed at once; records per second until all are in sfsim,
//    beside the bench itself creating N records with sequential 200-record collection calls.
// Prints a table and writes the figures as JSON.
//
// Usage: writeback --sfsim PATH --sfbridge PATH [--rate R] [--seconds S] [--inserts N]
//                  [--json FILE]         (SFBRIDGE_BENCH_PG_DSN: the database)

#include "bench/bridge_process.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <simdjson.h>

#include <map>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace sfbridge;
using namespace sfbridge::bench;
using clk = std::chrono::steady_clock;

namespace {

struct options {
    std::string sfsim, sfbridge, json = "writeback.json";
    long rate = 100, seconds = 30, inserts = 100000;
};

struct figures {
    std::vector<double> latency, floor;
    double throughput = 0, floor_throughput = 0;
    long sent = 0;
};

const char* mappings_json =
    R"({"version":1,"mappings":[{"object_name":"Contact","config":{"access":"read_write",)"
    R"("sf_notify_enabled":true,"sf_polling_seconds":3600,"fields":{"Id":{},"LastName":{},)"
    R"("FirstName":{},"Email":{},"Title":{},"IsDeleted":{},"SystemModstamp":{}}}}]})";

long live_contacts(const std::string& stats) {
    const std::string needle = "\"Contact\":{\"live\":";
    const auto at = stats.find(needle);
    return at == std::string::npos ? 0 : std::stol(stats.substr(at + needle.size()));
}

asio::awaitable<int> run(asio::io_context& io, const options& o, std::uint16_t port, figures& fig) {
    const std::string dsn = bench_dsn();
    test::http_client sim(io, port);
    test::http_client api(io, port);
    api.token = co_await sim_login(api);
    pg::connection c(io.get_executor());
    pg::diagnostics pd;
    if (co_await c.async_connect(dsn, pd))
        throw std::runtime_error(pd.summary());
    co_await exec(c, "DROP SCHEMA IF EXISTS bench_writeback CASCADE");

    const long n_updates = o.rate * o.seconds;
    auto g = co_await control(sim, http::verb::post, "/__sim/generate",
                              R"({"object":"Contact","kind":"create","count":)" +
                                  std::to_string(n_updates) + R"(,"rate":0,"bulk":true})");
    co_await wait_generated(sim, json_field(g.body, "generator"));
    const std::string mpath = "/tmp/sfbridge-bench-writeback-" + std::to_string(getpid()) + ".json";
    std::ofstream(mpath) << mappings_json;
    sfbridge_process bridge(o.sfbridge, dsn, port, mpath, mpath + ".log", "bench_writeback");
    while (log_time(bridge.log(), "initial load done") < 0) {
        if (!bridge.alive())
            throw std::runtime_error("sfbridge exited:\n" + bridge.log());
        co_await sleep_ms(50);
    }
    co_await sleep_ms(1000);

    // 1. Latency: one update per record, each committed alone, at a steady rate.
    std::fprintf(stderr, "latency: %ld updates/s for %ld s...\n", o.rate, o.seconds);
    pg::result ids;
    if (co_await c.async_query("SELECT id, sfid FROM bench_writeback.contact ORDER BY id", ids, pd))
        throw std::runtime_error(pd.summary());
    std::map<std::string, std::int64_t> committed; // sfid -> commit time (ms)
    const auto start = clk::now();
    for (long i = 0; i < n_updates && i < ids.rows(); ++i) {
        const auto due = start + std::chrono::microseconds(i * 1000000 / o.rate);
        if (due > clk::now()) {
            asio::steady_timer t(io, due);
            co_await t.async_wait(asio::use_awaitable);
        }
        pg::result r;
        if (co_await c.async_query("UPDATE bench_writeback.contact SET title = $1 WHERE id = $2",
                                   pg::params("Latency " + std::to_string(i), ids.value(i, 0)), r,
                                   pd))
            throw std::runtime_error(pd.summary());
        committed[std::string(ids.value(i, 1))] = now_ms(); // autocommit: returned = committed
    }
    co_await sleep_ms(3000);
    // Each record's SystemModstamp in sfsim is when the update landed there.
    std::string target = "/services/data/v60.0/query?q=SELECT+Id,Title,SystemModstamp+FROM+Contact";
    while (!target.empty()) {
        auto r = co_await api.call(http::verb::get, target);
        simdjson::dom::parser p;
        simdjson::dom::element doc;
        if (p.parse(r.body).get(doc))
            throw std::runtime_error("sfsim query: " + r.body.substr(0, 200));
        for (auto rec : doc["records"].get_array()) {
            std::string_view id, stamp;
            if (rec["Id"].get(id) || rec["SystemModstamp"].get(stamp))
                continue;
            auto it = committed.find(std::string(id));
            if (it == committed.end())
                continue;
            int y, mo, d, h, mi, s, ms;
            if (std::sscanf(std::string(stamp).c_str(), "%d-%d-%dT%d:%d:%d.%d", &y, &mo, &d, &h,
                            &mi, &s, &ms) != 7)
                continue;
            const std::int64_t at =
                ((calendar::days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + s * 1000LL +
                ms;
            fig.latency.push_back(static_cast<double>(at - it->second));
        }
        bool done = true;
        if (doc["done"].get(done))
            done = true;
        std::string_view next;
        target = done || doc["nextRecordsUrl"].get(next) ? std::string() : std::string(next);
    }
    // The floor: commit in Postgres, then the same one-record update sent straight to sfsim.
    std::map<std::string, std::string> json_headers;
    json_headers["Content-Type"] = "application/json";
    co_await exec(c, "CREATE TABLE bench_writeback.floor_row (x int); INSERT INTO "
                     "bench_writeback.floor_row VALUES (0)");
    for (long i = 0; i < 300 && i < ids.rows(); ++i) {
        const auto t0 = clk::now();
        co_await exec(c, "UPDATE bench_writeback.floor_row SET x = x + 1");
        auto resp = co_await api.call(
            http::verb::patch, "/services/data/v60.0/composite/sobjects",
            R"({"allOrNone":false,"records":[{"attributes":{"type":"Contact"},"Id":")" +
                std::string(ids.value(i, 1)) + R"(","Title":"Floor"}]})",
            json_headers);
        if (resp.status != 200)
            throw std::runtime_error("floor update: " + resp.body);
        fig.floor.push_back(std::chrono::duration<double, std::milli>(clk::now() - t0).count());
    }

    // 2. Throughput: N inserts in one transaction.
    std::fprintf(stderr, "throughput: %ld inserts in one transaction...\n", o.inserts);
    auto before = co_await control(sim, http::verb::get, "/__sim/stats", "");
    const long base = live_contacts(before.body);
    const auto t0 = clk::now();
    co_await exec(c,
                  "INSERT INTO bench_writeback.contact (lastname, email) SELECT 'Bulk ' || i, 'b' "
                  "|| i || '@example.com' FROM generate_series(1, " +
                      std::to_string(o.inserts) + ") i");
    while (true) {
        auto st = co_await control(sim, http::verb::get, "/__sim/stats", "");
        if (live_contacts(st.body) >= base + o.inserts)
            break;
        if (clk::now() - t0 > std::chrono::seconds(600))
            throw std::runtime_error("the inserts did not all reach sfsim");
        co_await sleep_ms(20);
    }
    fig.throughput =
        static_cast<double>(o.inserts) / std::chrono::duration<double>(clk::now() - t0).count();
    fig.sent = o.inserts;
    // The floor: the bench creating the same number of records, 200 per call, one call at a time.
    const auto f0 = clk::now();
    for (long done = 0; done < o.inserts; done += 200) {
        std::string body = R"({"allOrNone":false,"records":[)";
        for (long k = 0; k < 200 && done + k < o.inserts; ++k)
            body += std::string(k ? "," : "") +
                    R"({"attributes":{"type":"Contact"},"LastName":"Floor )" +
                    std::to_string(done + k) + R"(","Email":"f@example.com"})";
        body += "]}";
        auto resp = co_await api.call(http::verb::post, "/services/data/v60.0/composite/sobjects",
                                      std::move(body), json_headers);
        if (resp.status != 200)
            throw std::runtime_error("floor create: " + resp.body.substr(0, 200));
    }
    fig.floor_throughput =
        static_cast<double>(o.inserts) / std::chrono::duration<double>(clk::now() - f0).count();
    const int rc = bridge.stop();
    if (rc != 0)
        std::fprintf(stderr, "sfbridge exited with %d\n", rc);
    co_await exec(c, "DROP SCHEMA bench_writeback CASCADE");
    std::remove(mpath.c_str());
    std::remove((mpath + ".log").c_str());
    co_return 0;
}

} // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string f = argv[i], v = argv[i + 1];
        if (f == "--sfsim")
            o.sfsim = v;
        else if (f == "--sfbridge")
            o.sfbridge = v;
        else if (f == "--rate")
            o.rate = std::stol(v);
        else if (f == "--seconds")
            o.seconds = std::stol(v);
        else if (f == "--inserts")
            o.inserts = std::stol(v);
        else if (f == "--json")
            o.json = v;
        else {
            std::fprintf(stderr, "unknown option %s\n", f.c_str());
            return 2;
        }
    }
    if (o.sfsim.empty() || o.sfbridge.empty()) {
        std::fprintf(stderr,
                     "usage: writeback --sfsim PATH --sfbridge PATH [--rate R] [--seconds S] "
                     "[--inserts N] [--json FILE]\n");
        return 2;
    }
    figures fig;
    bench::sfsim_process sim(o.sfsim, 0,
                             {"--connect-timeout", "20000", "--retention-count", "5000000"});
    asio::io_context io(1);
    const int rc = run_to_end(io, "writeback", run(io, o, sim.port(), fig));
    if (rc != 0)
        return rc;
    const double p50 = percentile(fig.latency, 0.5), p95 = percentile(fig.latency, 0.95),
                 p99 = percentile(fig.latency, 0.99), f50 = percentile(fig.floor, 0.5);
    std::printf(
        "figure                                  sfbridge           floor (same run)     ratio\n");
    std::printf("latency, %ld updates/s for %ld s (ms)  p50 %.1f p95 %.1f p99 %.1f   p50 %.2f   "
                "%6.1fx  (%zu records)\n",
                o.rate, o.seconds, p50, p95, p99, f50, f50 > 0 ? p50 / f50 : 0.0,
                fig.latency.size());
    std::printf("throughput, %ld inserts at once   %9.0f records/s   %9.0f records/s  %5.2fx\n",
                o.inserts, fig.throughput, fig.floor_throughput,
                fig.throughput / fig.floor_throughput);
    std::ofstream js(o.json);
    js << "{\"latency_ms\":{\"p50\":" << p50 << ",\"p95\":" << p95 << ",\"p99\":" << p99
       << ",\"samples\":" << fig.latency.size() << "},\"floor_latency_p50_ms\":" << f50
       << ",\"throughput_records_per_s\":" << fig.throughput
       << ",\"floor_records_per_s\":" << fig.floor_throughput << "}\n";
    std::printf("figures written to %s\n", o.json.c_str());
    return 0;
}
