// bench/inbound: sfsim, a real Postgres and sfbridge (the executable, as deployed) in one run:
//  - initial load: N rows through Bulk API 2.0 into an empty table, beside a plain COPY of the
//    same rows into a table of the same shape (indexes included), measured in the same run;
//  - latency: changes at a steady rate; from each change's commit in sfsim to the row's commit
//    in Postgres (a NOTIFY sent by a trigger arrives at commit), in microseconds: sfsim writes
//    its clock into AssistantName at each save (SystemModstamp has milliseconds only, and two
//    truncated clocks made the median jump between 1 and 2 ms for the same build);
//  - a rate sweep: the same latency at each of several rates (500, 1,000, 2,000 and 5,000
//    changes/s, 20 s each), with the CPU time sfbridge and its Postgres sessions spent per
//    change, beside the first step's;
//  - throughput: M changes (30% creates, 60% updates, 10% deletes) as fast as sfsim emits them,
//    beside the ceiling for the same number of changes and mix written by COPY into a staging
//    table and one merge per batch (sfbridge's own write path, without Salesforce:
//    bench/inbound_ceiling);
//  - memory: sfbridge's peak RSS through all of it (VmHWM).
// Prints a table and writes the figures as JSON.
//
// Usage: inbound --sfsim PATH --sfbridge PATH [--rows N] [--rate R] [--seconds S]
//                [--changes M] [--sweep R1,R2,...|none] [--sweep-seconds S] [--json FILE]
//                (SFBRIDGE_BENCH_PG_DSN: the database)

#include "bench/bridge_process.hpp"
#include "bench/inbound_ceiling.hpp"
#include "bench/inbound_figures.hpp"
#include "bench/stage_metrics.hpp"
#include "bench/support/http_client.hpp"
#include "mappings/types.hpp"
#include "pg/connection.hpp"
#include "pg/copy_text.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace sfbridge;
using clk = std::chrono::steady_clock;
using namespace sfbridge::bench;
using namespace sfbridge::bench::inbound;

namespace {

const char* usage = "usage: inbound --sfsim PATH --sfbridge PATH [--rows N] [--rate R] "
                    "[--seconds S] [--changes M] [--sweep R1,R2,...|none] [--sweep-seconds S] "
                    "[--json FILE]";

std::string mapping_file() {
    std::string f;
    for (const auto& x : inbound_fields())
        f += (f.empty() ? "" : ",") + std::string("\"") + x + "\":{}";
    return R"({"version":1,"mappings":[{"object_name":"Contact","config":{"access":"read_only",)"
           R"("sf_notify_enabled":true,"sf_polling_seconds":3600,"fields":{)" +
           f + "}}}]}";
}

// Asks sfsim for `rate` changes a second for `seconds` and records each row's latency (the
// trigger NOTIFYs sfsim's save time at commit). Receives until sfsim's generator has finished
// and two seconds have passed without a row, so a writer that falls behind shows in the tail rather
// than in lost samples, and no step's changes spill into the next.
asio::awaitable<long> measure(pg::connection& c, test::http_client& sim, long rate, long seconds,
                              std::vector<double>& out) {
    const long count = rate * seconds;
    const auto g = co_await control(
        sim, http::verb::post, "/__sim/generate",
        R"({"object":"Contact","kind":"mixed","stamp_field":"AssistantName","count":)" +
            std::to_string(count) + R"(,"rate":)" + std::to_string(rate) + "}");
    const std::string job = "/__sim/generate/" + bench::json_field(g.body, "generator");
    const auto give_up = clk::now() + std::chrono::seconds(seconds + 120);
    const std::size_t before = out.size();
    bool generated = false;
    auto last = clk::now();
    pg::diagnostics pd;
    while (clk::now() < give_up) {
        pg::notification n;
        auto ec = co_await c.async_receive_notification(n, pd, std::chrono::milliseconds(250));
        if (ec == boost::system::errc::timed_out) {
            if (!generated) {
                const auto status = co_await control(sim, http::verb::get, job, "");
                generated = bench::json_field(status.body, "finished") == "true";
            }
            if (generated && clk::now() - last > std::chrono::seconds(2))
                break;
            continue;
        }
        if (ec)
            throw std::runtime_error(pd.summary());
        const auto at = now_us();
        last = clk::now();
        std::int64_t saved = 0;
        const auto [end, parse_ec] =
            std::from_chars(n.payload.data(), n.payload.data() + n.payload.size(), saved);
        if (parse_ec != std::errc() || end != n.payload.data() + n.payload.size())
            throw std::runtime_error("latency: a row without sfsim's stamp: '" + n.payload + "'");
        out.push_back(static_cast<double>(at - saved) / 1000.0);
    }
    // Of the mix, 90% are creates and updates (each one row); deletes send nothing.
    const auto rows = static_cast<long>(out.size() - before);
    if (rows < count * 8 / 10)
        throw std::runtime_error("latency: only " + std::to_string(rows) + " rows of " +
                                 std::to_string(count) + " changes arrived");
    co_return count;
}

// The baseline of the load: the same rows by plain COPY into a table of the same shape.
asio::awaitable<double> copy_baseline(pg::connection& c) {
    pg::diagnostics pd;
    std::string cols;
    for (const auto& f : inbound_fields())
        cols += (cols.empty() ? "" : ", ") +
                (f == "Id" ? std::string("sfid") : mappings::column_name(f));
    pg::result rows;
    if (co_await c.async_query("SELECT " + cols + " FROM bench_inbound.contact", rows, pd))
        throw std::runtime_error(pd.summary());
    std::string text;
    for (int i = 0; i < rows.rows(); ++i) {
        for (int k = 0; k < rows.columns(); ++k)
            pg::copy_text::append_optional(text, rows.optional_value(i, k), k == 0);
        pg::copy_text::end_row(text);
    }
    rows = pg::result();
    co_await exec(c, "CREATE TABLE bench_inbound.copy_baseline (LIKE bench_inbound.contact "
                     "INCLUDING ALL)");
    const auto start = clk::now();
    if (co_await c.async_copy_start("COPY bench_inbound.copy_baseline (" + cols + ") FROM STDIN",
                                    pd))
        throw std::runtime_error(pd.summary());
    for (std::size_t off = 0; off < text.size(); off += 1 << 20)
        if (co_await c.async_copy_write(std::string_view(text).substr(off, 1 << 20), pd))
            throw std::runtime_error(pd.summary());
    std::uint64_t n = 0;
    if (co_await c.async_copy_end(n, pd))
        throw std::runtime_error(pd.summary());
    const double rows_s =
        static_cast<double>(n) / std::chrono::duration<double>(clk::now() - start).count();
    co_await exec(c, "DROP TABLE bench_inbound.copy_baseline");
    co_return rows_s;
}

asio::awaitable<void> steady_state(pg::connection& c) {
    // Steady state: the autovacuum the load set off finishes, and a checkpoint writes out the
    // million rows' dirty buffers, before latency is measured (otherwise the first writes after
    // the load evict dirty pages themselves, and that is the load's cost, not streaming's).
    for (int i = 0; i < 600; ++i) {
        if (co_await scalar(c, "SELECT count(*) FROM pg_stat_progress_vacuum") == "0")
            break;
        co_await sleep_ms(100);
    }
    co_await exec(c, "CHECKPOINT");
}

// 2. Latency at a steady rate, then the rate sweep: a trigger NOTIFYs each row's save time in
// sfsim (microseconds, in AssistantName) at commit.
asio::awaitable<void> latency(pg::connection& c, test::http_client& sim,
                              test::http_client& endpoint, long bridge_pid, const options& o,
                              figures& fig) {
    std::fprintf(stderr, "latency: %ld changes/s for %ld s...\n", o.rate, o.seconds);
    co_await exec(
        c, R"(CREATE FUNCTION bench_inbound.notify_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('bench_inbound', coalesce(NEW.assistantname, '')); RETURN NULL; END $$;
        CREATE TRIGGER bench_notify AFTER INSERT OR UPDATE ON bench_inbound.contact
        FOR EACH ROW EXECUTE FUNCTION bench_inbound.notify_commit();
        LISTEN bench_inbound)");
    co_await sleep_ms(1000); // the stream is up
    const auto stages0 =
        parse_stages((co_await control(endpoint, http::verb::get, "/metrics", "")).body);
    (void)co_await measure(c, sim, o.rate, o.seconds, fig.latencies);
    const auto stages1 =
        parse_stages((co_await control(endpoint, http::verb::get, "/metrics", "")).body);
    for (const char* stage : {"queue", "batch", "commit"})
        fig.stages[stage] = {stage_quantile(stages1, stages0, stage, 0.5) * 1000,
                             stage_quantile(stages1, stages0, stage, 0.99) * 1000};

    // 2b. The rate sweep: the same, a step at each rate, with the CPU time spent per change.
    for (const long rate : o.sweep) {
        std::fprintf(stderr, "sweep: %ld changes/s for %ld s...\n", rate, o.sweep_seconds);
        step st;
        st.rate = rate;
        const auto pg0 = co_await backend_cpu(c);
        const double bridge0 = cpu_seconds(bridge_pid);
        st.generated = co_await measure(c, sim, rate, o.sweep_seconds, st.latencies);
        const double bridge1 = cpu_seconds(bridge_pid);
        const auto pg1 = co_await backend_cpu(c);
        double pg_spent = 0;
        for (const auto& [pid, t] : pg1)
            if (const auto it = pg0.find(pid); it != pg0.end())
                pg_spent += t - it->second;
        const double per = 1e6 / static_cast<double>(st.generated);
        st.sfbridge_cpu_us = (bridge1 - bridge0) * per;
        st.postgres_cpu_us = pg_spent * per;
        fig.sweep.push_back(std::move(st));
    }
    co_await exec(c, "UNLISTEN bench_inbound; DROP TRIGGER bench_notify ON bench_inbound.contact");
}

// 3. Throughput: M changes as fast as sfsim emits them.
asio::awaitable<void> throughput(pg::connection& c, test::http_client& sim, const options& o,
                                 figures& fig) {
    std::fprintf(stderr, "throughput: %ld changes...\n", o.changes);
    const auto t0 = clk::now();
    const auto g = co_await control(sim, http::verb::post, "/__sim/generate",
                                    R"({"object":"Contact","kind":"mixed","count":)" +
                                        std::to_string(o.changes) + R"(,"rate":0})");
    co_await wait_generated(sim, bench::json_field(g.body, "generator"));
    fig.sim_emit =
        static_cast<double>(o.changes) / std::chrono::duration<double>(clk::now() - t0).count();
    // Done when Postgres holds sfsim's live count and its newest change.
    http::verb get = http::verb::get;
    long polls = 0;
    while (true) {
        // Cheap first: only when no batch has committed for a second is the table counted
        // (counting a million rows every few milliseconds would slow the writer down).
        co_await sleep_ms(250);
        const std::string idle =
            co_await scalar(c, "SELECT (last_event_at < now() - interval '1 s')::text FROM "
                               "bench_inbound._sfbridge_state");
        if (idle != "true")
            continue;
        auto stats = co_await control(sim, get, "/__sim/stats", "");
        const std::string needle = "\"Contact\":{\"live\":";
        const auto at = stats.body.find(needle);
        const long live = std::stol(stats.body.substr(at + needle.size()));
        const long in_pg =
            std::stol(co_await scalar(c, "SELECT count(*) FROM bench_inbound.contact"));
        if (live == in_pg)
            break;
        if (clk::now() - t0 > std::chrono::seconds(900))
            throw std::runtime_error("Postgres did not converge: sfsim has " +
                                     std::to_string(live) + " live Contacts, Postgres " +
                                     std::to_string(in_pg));
        std::fprintf(stderr, "  waiting: sfsim %ld live, Postgres %ld\n", live, in_pg);
        ++polls;
    }
    // The last event's commit: last_event_at, stored with the last batch.
    const double last = std::stod(co_await scalar(
        c, "SELECT extract(epoch from last_event_at) FROM bench_inbound._sfbridge_state"));
    const double start_epoch = static_cast<double>(now_ms()) / 1000.0 -
                               std::chrono::duration<double>(clk::now() - t0).count();
    fig.throughput = static_cast<double>(o.changes) / (last - start_epoch);
}

asio::awaitable<int> run(asio::io_context& io, const options& o, std::uint16_t port, figures& fig) {
    const std::string dsn = bench_dsn();
    test::http_client sim(io, port);
    pg::connection c(io.get_executor());
    pg::diagnostics pd;
    if (co_await c.async_connect(dsn, pd))
        throw std::runtime_error(pd.summary());
    co_await exec(c, "DROP SCHEMA IF EXISTS bench_inbound CASCADE");

    // 1. Initial load through Bulk API 2.0.
    std::fprintf(stderr, "seeding sfsim with %ld Contacts...\n", o.rows);
    const auto g = co_await control(sim, http::verb::post, "/__sim/generate",
                                    R"({"object":"Contact","kind":"create","count":)" +
                                        std::to_string(o.rows) + R"(,"rate":0,"bulk":true})");
    co_await wait_generated(sim, bench::json_field(g.body, "generator"));
    const std::string mappings_path =
        "/tmp/sfbridge-bench-inbound-" + std::to_string(getpid()) + ".json";
    std::ofstream(mappings_path) << mapping_file();
    const std::uint16_t http_port = free_port();
    sfbridge_process bridge(o.sfbridge, dsn, port, mappings_path, mappings_path + ".log",
                            "bench_inbound", http_port);
    test::http_client endpoint(io, http_port);
    std::fprintf(stderr, "sfbridge: initial load...\n");
    while (log_time(bridge.log(), "initial load done") < 0) {
        if (!bridge.alive())
            throw std::runtime_error("sfbridge exited:\n" + bridge.log());
        co_await sleep_ms(50);
    }
    // The first poll after the load re-reads the records changed in the overlap before it
    // (here: all of them, just seeded); the latency phase starts once it is done.
    while (log_time(bridge.log(), "caught up") < 0)
        co_await sleep_ms(50);
    const std::string log = bridge.log();
    const double load_s = static_cast<double>(log_time(log, "initial load done") -
                                              log_time(log, "msg=\"initial load\"")) /
                          1000.0;
    fig.loaded = std::stol(co_await scalar(c, "SELECT count(*) FROM bench_inbound.contact"));
    fig.load_rows_s = static_cast<double>(fig.loaded) / load_s;
    // Of the load's time, how much went by before sfsim's Bulk job answered with rows.
    if (const auto at = log.find("first_rows_after_ms="); at != std::string::npos)
        fig.load_wait_ms = std::stol(log.substr(at + 20));

    fig.copy_rows_s = co_await copy_baseline(c);
    co_await steady_state(c);
    co_await latency(c, sim, endpoint, bridge.pid(), o, fig);

    co_await throughput(c, sim, o, fig);
    fig.peak_rss_kb = bridge.peak_rss_kb();
    const std::size_t existing = static_cast<std::size_t>(
        std::stol(co_await scalar(c, "SELECT count(*) FROM bench_inbound.contact")));
    const int rc = bridge.stop();
    if (rc != 0)
        std::fprintf(stderr, "sfbridge exited with %d\n", rc);

    // 4. The ceiling for the same number of changes and mix.
    std::fprintf(stderr, "ceiling: %ld changes by COPY + merge...\n", o.changes);
    fig.ceiling = co_await ceiling(io, dsn, o.changes, existing);
    co_await exec(c, "DROP SCHEMA bench_inbound CASCADE");
    std::remove(mappings_path.c_str());
    std::remove((mappings_path + ".log").c_str());
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
        else if (f == "--rows")
            o.rows = std::stol(v);
        else if (f == "--rate")
            o.rate = std::stol(v);
        else if (f == "--seconds")
            o.seconds = std::stol(v);
        else if (f == "--changes")
            o.changes = std::stol(v);
        else if (f == "--sweep") {
            o.sweep.clear();
            for (std::size_t at = 0; v != "none" && at < v.size();) {
                auto comma = v.find(',', at);
                if (comma == std::string::npos)
                    comma = v.size();
                o.sweep.push_back(std::stol(v.substr(at, comma - at)));
                at = comma + 1;
            }
        } else if (f == "--sweep-seconds")
            o.sweep_seconds = std::stol(v);
        else if (f == "--json")
            o.json = v;
        else {
            std::fprintf(stderr, "%s\n", usage);
            return 2;
        }
    }
    if (o.sfsim.empty() || o.sfbridge.empty()) {
        std::fprintf(stderr, "%s\n", usage);
        return 2;
    }
    figures fig;
    // Salesforce keeps events for 24 hours, not a count: keep them all, as a real org would here.
    bench::sfsim_process sim(o.sfsim, 0,
                             {"--connect-timeout", "20000", "--retention-count", "5000000"});
    asio::io_context io(1);
    int rc = 1;
    asio::co_spawn(io, run(io, o, sim.port(), fig), [&](std::exception_ptr e, int r) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::fprintf(stderr, "inbound: %s\n", x.what());
            }
            rc = 1;
            return;
        }
        rc = r;
    });
    io.run();
    if (rc != 0)
        return rc;
    report(o, fig);
    std::printf("figures written to %s\n", o.json.c_str());
    return 0;
}
