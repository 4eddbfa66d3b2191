// bench/failover: two sfbridge replicas (the executable) on one database and one read-write
// mapping, changes in both directions at R per second each (sfsim's generator creating,
// updating and deleting Contacts; the bench inserting and updating rows as an app would), and
// the mapping's leader SIGKILLed K times at random moments, a new replica started after each
// kill so that two always run. For each kill: the time until the standby has taken the mapping
// over and applied its first change (the first write-back outcome or stream commit it writes),
// beside the baseline measured in the same run: a replica started alone, from its exec to its
// first change applied (what a restart without a standby costs). At the end, with the
// workloads stopped and everything synced: changes lost and duplicated in both directions,
// which must be 0.
//
// Usage: failover --sfsim PATH --sfbridge PATH [--rate R] [--kills K] [--json FILE]
//        (SFBRIDGE_BENCH_PG_DSN: the database)

#include "bench/bridge_process.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <simdjson.h>

#include <random>
#include <set>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace sfbridge;
using namespace sfbridge::bench;
using clk = std::chrono::steady_clock;

namespace {

struct options {
    std::string sfsim, sfbridge, json = "failover.json";
    long rate = 500, kills = 10;
};

struct figures {
    double cold_start_ms = 0;
    std::vector<double> takeover_ms;
    long app_inserts = 0, app_updates = 0;
    long out_lost = 0, out_duplicated = 0, in_lost = 0, in_extra = 0, in_duplicated = 0;
    long failed_writes = 0;
};

const char* schema = "bench_failover";
const char* mappings_json =
    R"({"version":1,"mappings":[{"object_name":"Contact","config":{"access":"read_write",)"
    R"("sf_notify_enabled":true,"sf_polling_seconds":3600,"fields":{"Id":{},"LastName":{},)"
    R"("FirstName":{},"Title":{},"IsDeleted":{},"SystemModstamp":{}}}}]})";

// One replica: its process and the name it was given (its id is the name and a suffix).
struct replica {
    std::string name;
    std::unique_ptr<sfbridge_process> p;
};

replica start_replica(const options& o, const std::string& dsn, std::uint16_t port,
                      const std::string& mpath, int n) {
    replica r;
    r.name = "r" + std::to_string(n);
    std::vector<std::pair<std::string, std::string>> env{{"SFBRIDGE_REPLICA_ID", r.name}};
    r.p = std::make_unique<sfbridge_process>(o.sfbridge, dsn, port, mpath,
                                             mpath + "." + r.name + ".log", schema, 0, env);
    return r;
}

// The database's clock, in ms (the bench, sfbridge and Postgres share the host).
asio::awaitable<std::int64_t> db_now_ms(pg::connection& c) {
    co_return std::stoll(co_await scalar(c, "SELECT (extract(epoch from clock_timestamp()) * "
                                            "1000)::bigint"));
}

// The first change written after `since_ms` (a write-back outcome, or the stream's commit as
// _sfbridge_state.last_event_at shows it), in ms; 0 if none yet.
asio::awaitable<std::int64_t> first_change_after(pg::connection& c, std::int64_t since_ms) {
    const std::string since = "to_timestamp(" + std::to_string(since_ms) + " / 1000.0)";
    const auto v = co_await scalar(
        c,
        std::string("SELECT coalesce((extract(epoch from least((SELECT min(processed_at) FROM ") +
            schema + "._trigger_log WHERE processed_at > " + since +
            "), (SELECT last_event_at FROM " + schema +
            "._sfbridge_state WHERE object_name = 'Contact' AND last_event_at > " + since +
            "))) * 1000)::bigint, 0)");
    co_return std::stoll(v);
}

asio::awaitable<std::string> leader(pg::connection& c) {
    co_return co_await scalar(c, std::string("SELECT coalesce(leader_replica, '') FROM ") + schema +
                                     "._sfbridge_state WHERE object_name = 'Contact'");
}

// The app: R changes a second, a third of them inserts of uniquely named rows, the rest updates
// of rows it inserted. Runs until `stop`.
asio::awaitable<void> app_writes(pg::connection& c, long rate, const bool& stop, bool& done,
                                 figures& fig) {
    struct mark_done {
        bool& d;
        ~mark_done() { d = true; }
    } guard{done};
    std::mt19937_64 rng(7);
    const auto ex = co_await asio::this_coro::executor;
    const auto start = clk::now();
    for (long i = 0; !stop; ++i) {
        const auto due = start + std::chrono::microseconds(i * 1000000 / rate);
        if (due > clk::now()) {
            asio::steady_timer t(ex, due);
            co_await t.async_wait(asio::use_awaitable);
        }
        if (i % 3 == 0 || fig.app_inserts == 0) {
            co_await exec(c, std::string("INSERT INTO ") + schema +
                                 ".contact (lastname, title) VALUES ('app-" +
                                 std::to_string(fig.app_inserts) + "', 'v0')");
            ++fig.app_inserts;
        } else {
            const long row = static_cast<long>(rng() % static_cast<std::uint64_t>(fig.app_inserts));
            co_await exec(c, std::string("UPDATE ") + schema + ".contact SET title = 'v" +
                                 std::to_string(i) + "' WHERE lastname = 'app-" +
                                 std::to_string(row) + "'");
            ++fig.app_updates;
        }
    }
}

// Every live Contact in sfsim: Id -> LastName.
asio::awaitable<std::map<std::string, std::string>> sim_contacts(test::http_client& api) {
    std::map<std::string, std::string> out;
    std::string target = "/services/data/v60.0/query?q=SELECT+Id,LastName+FROM+Contact";
    while (!target.empty()) {
        auto r = co_await api.call(http::verb::get, target);
        simdjson::dom::parser p;
        simdjson::dom::element doc;
        if (p.parse(r.body).get(doc))
            throw std::runtime_error("sfsim query: " + r.body.substr(0, 200));
        for (auto rec : doc["records"].get_array()) {
            std::string_view id, name;
            if (!rec["Id"].get(id) && !rec["LastName"].get(name))
                out[std::string(id)] = std::string(name);
        }
        std::string_view next;
        target = doc["nextRecordsUrl"].get(next) ? std::string() : std::string(next);
    }
    co_return out;
}

// Lost and duplicated, once both sides have settled.
asio::awaitable<void> count_differences(pg::connection& c, test::http_client& api, figures& fig) {
    const auto sim = co_await sim_contacts(api);
    std::map<std::string, long> app_names; // app-N -> records in sfsim
    for (const auto& [id, name] : sim)
        if (name.rfind("app-", 0) == 0)
            ++app_names[name];
    for (const auto& [name, n] : app_names)
        fig.out_duplicated += n - 1;
    fig.out_lost = fig.app_inserts - static_cast<long>(app_names.size());
    pg::result rows;
    pg::diagnostics pd;
    if (co_await c.async_query(std::string("SELECT sfid, count(*) FROM ") + schema +
                                   ".contact WHERE sfid IS NOT NULL GROUP BY sfid",
                               rows, pd))
        throw std::runtime_error(pd.summary());
    std::set<std::string> table;
    for (int i = 0; i < rows.rows(); ++i) {
        table.insert(std::string(rows.value(i, 0)));
        fig.in_duplicated += std::stol(std::string(rows.value(i, 1))) - 1;
    }
    for (const auto& [id, name] : sim)
        fig.in_lost += table.count(id) ? 0 : 1;
    for (const auto& id : table)
        fig.in_extra += sim.count(id) ? 0 : 1;
    fig.failed_writes = std::stol(co_await scalar(c, std::string("SELECT count(*) FROM ") + schema +
                                                         "._trigger_log WHERE state = 'FAILED'"));
}

// The generator in sfsim, then the kills: each time the leader is SIGKILLed, the time until the
// other replica has applied its first change, and a new replica started. Returns the generator.
asio::awaitable<std::string> kill_leaders(const options& o, pg::connection& c,
                                          test::http_client& sim, const std::string& dsn,
                                          std::uint16_t port, const std::string& mpath,
                                          std::int64_t t_exec, figures& fig,
                                          std::vector<replica>& rs) {
    // About 8 s a kill: the generator ends with the kills, or soon after.
    auto g = co_await control(sim, http::verb::post, "/__sim/generate",
                              R"({"object":"Contact","kind":"mixed","count":)" +
                                  std::to_string(o.rate * (8 * o.kills + 5)) + R"(,"rate":)" +
                                  std::to_string(o.rate) + "}");
    const std::string generator = json_field(g.body, "generator");
    std::int64_t first = 0;
    while ((first = co_await first_change_after(c, t_exec)) == 0)
        co_await sleep_ms(20);
    fig.cold_start_ms = static_cast<double>(first - t_exec);
    rs.push_back(start_replica(o, dsn, port, mpath, 2));
    int next = 3;

    std::mt19937_64 rng(42);
    for (long k = 0; k < o.kills; ++k) {
        // Both replicas up (the newest one's lock session connected), then a random moment.
        while (log_time(rs.back().p->log(), "replica started") < 0)
            co_await sleep_ms(50);
        co_await sleep_ms(3000 + static_cast<long>(rng() % 3000));
        const std::string lead = co_await leader(c);
        auto it = std::find_if(rs.begin(), rs.end(),
                               [&](const replica& r) { return lead.rfind(r.name + "-", 0) == 0; });
        if (it == rs.end())
            throw std::runtime_error("no running replica leads Contact (leader: " + lead + ")");
        it->p->kill_now(); // reaped: nothing of its can commit after this
        const auto killed_at = co_await db_now_ms(c);
        rs.erase(it);
        while (true) {
            first = co_await first_change_after(c, killed_at);
            const std::string now_leads = co_await leader(c);
            if (first != 0 && !now_leads.empty() && now_leads != lead)
                break;
            co_await sleep_ms(10);
        }
        fig.takeover_ms.push_back(static_cast<double>(first - killed_at));
        std::fprintf(stderr, "kill %ld: %s killed, the standby's first change after %lld ms\n",
                     k + 1, lead.c_str(), static_cast<long long>(first - killed_at));
        rs.push_back(start_replica(o, dsn, port, mpath, next++));
    }

    co_return generator;
}

asio::awaitable<int> run(asio::io_context& io, const options& o, std::uint16_t port, figures& fig) {
    const std::string dsn = bench_dsn();
    test::http_client sim(io, port);
    test::http_client api(io, port);
    api.token = co_await sim_login(api);
    pg::connection c(io.get_executor()), app(io.get_executor());
    pg::diagnostics pd;
    // (No co_await after || : GCC 12.)
    if (co_await c.async_connect(dsn, pd))
        throw std::runtime_error(pd.summary());
    if (co_await app.async_connect(dsn, pd))
        throw std::runtime_error(pd.summary());
    co_await exec(c, std::string("DROP SCHEMA IF EXISTS ") + schema + " CASCADE");
    const std::string mpath = "/tmp/sfbridge-bench-failover-" + std::to_string(getpid()) + ".json";
    std::ofstream(mpath) << mappings_json;
    auto g = co_await control(sim, http::verb::post, "/__sim/generate",
                              R"({"object":"Contact","kind":"create","count":2000,"bulk":true})");
    co_await wait_generated(sim, json_field(g.body, "generator"));

    // The baseline: one replica alone, from its exec to its first change applied.
    const auto t_exec = co_await db_now_ms(c);
    std::vector<replica> rs;
    rs.push_back(start_replica(o, dsn, port, mpath, 1));
    while (log_time(rs[0].p->log(), "initial load done") < 0) {
        if (!rs[0].p->alive())
            throw std::runtime_error("sfbridge exited:\n" + rs[0].p->log());
        co_await sleep_ms(20);
    }
    bool stop = false, app_done = false;
    asio::co_spawn(io, app_writes(app, o.rate, stop, app_done, fig), [](std::exception_ptr e) {
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            std::fprintf(stderr, "failover: the app's writes failed: %s\n", x.what());
            std::_Exit(1);
        }
    });
    // The app's writes use this frame's session: they end before it does, also on a failure.
    std::exception_ptr failure;
    std::string generator;
    try {
        generator = co_await kill_leaders(o, c, sim, dsn, port, mpath, t_exec, fig, rs);
    } catch (...) {
        failure = std::current_exception();
    }
    stop = true;
    while (!app_done)
        co_await sleep_ms(10);
    if (failure)
        std::rethrow_exception(failure);

    co_await wait_generated(sim, generator);
    // Settled: nothing waits in the trigger log and the two sides agree (the last echoes and
    // deletes stream in), or two minutes have passed; then the differences are what is left.
    const auto settle = clk::now() + std::chrono::seconds(120);
    while (true) {
        const auto waiting = co_await scalar(c, std::string("SELECT count(*) FROM ") + schema +
                                                    "._trigger_log WHERE state IN ('NEW', "
                                                    "'PENDING')");
        fig.out_lost = fig.out_duplicated = fig.in_lost = fig.in_extra = fig.in_duplicated = 0;
        co_await count_differences(c, api, fig);
        const bool agree = waiting == "0" && fig.out_lost == 0 && fig.out_duplicated == 0 &&
                           fig.in_lost == 0 && fig.in_extra == 0 && fig.in_duplicated == 0;
        if (agree)
            break;
        if (clk::now() > settle) {
            std::fprintf(stderr, "failover: not settled after 120 s (%s rows still waiting)\n",
                         waiting.c_str());
            break;
        }
        co_await sleep_ms(500);
    }
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
        else if (f == "--kills")
            o.kills = std::stol(v);
        else if (f == "--json")
            o.json = v;
        else {
            std::fprintf(stderr, "unknown option %s\n", f.c_str());
            return 2;
        }
    }
    if (o.sfsim.empty() || o.sfbridge.empty()) {
        std::fprintf(stderr, "usage: failover --sfsim PATH --sfbridge PATH [--rate R] [--kills K] "
                             "[--json FILE]\n");
        return 2;
    }
    figures fig;
    bench::sfsim_process sim(o.sfsim, 0,
                             {"--connect-timeout", "20000", "--retention-count", "5000000"});
    asio::io_context io(1);
    const int rc = run_to_end(io, "failover", run(io, o, sim.port(), fig));
    if (rc != 0)
        return rc;
    const double p50 = percentile(fig.takeover_ms, 0.5),
                 max = fig.takeover_ms.empty()
                           ? 0
                           : *std::max_element(fig.takeover_ms.begin(), fig.takeover_ms.end());
    std::printf("figure                                        sfbridge          baseline (same "
                "run)        ratio\n");
    std::printf("kill -> standby's first change (ms), %2zu kills  p50 %6.0f max %6.0f   "
                "cold start %6.0f       %5.2fx\n",
                fig.takeover_ms.size(), p50, max, fig.cold_start_ms,
                fig.cold_start_ms > 0 ? p50 / fig.cold_start_ms : 0.0);
    std::printf("app writes: %ld inserts, %ld updates at %ld/s; Salesforce changes at %ld/s\n",
                fig.app_inserts, fig.app_updates, o.rate, o.rate);
    std::printf("outbound: %ld lost, %ld duplicated; inbound: %ld lost, %ld extra, %ld "
                "duplicated; writes FAILED: %ld\n",
                fig.out_lost, fig.out_duplicated, fig.in_lost, fig.in_extra, fig.in_duplicated,
                fig.failed_writes);
    std::ofstream js(o.json);
    js << "{\"kills\":" << fig.takeover_ms.size() << ",\"takeover_ms\":{\"p50\":" << p50
       << ",\"max\":" << max << "},\"cold_start_ms\":" << fig.cold_start_ms
       << ",\"out_lost\":" << fig.out_lost << ",\"out_duplicated\":" << fig.out_duplicated
       << ",\"in_lost\":" << fig.in_lost << ",\"in_extra\":" << fig.in_extra
       << ",\"in_duplicated\":" << fig.in_duplicated << "}\n";
    std::printf("figures written to %s\n", o.json.c_str());
    const bool clean = fig.out_lost == 0 && fig.out_duplicated == 0 && fig.in_lost == 0 &&
                       fig.in_extra == 0 && fig.in_duplicated == 0;
    return clean ? 0 : 1;
}
