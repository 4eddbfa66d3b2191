// bench/scale: how one sfbridge replica grows with its mappings (issue 19). sfsim serves
// synthetic objects (Sim_Object_<i>__c, a field of every type) with R records each; for each
// step (1, 10, 50 and 200 mappings by default) a fresh schema and a fresh sfbridge process with
// the default --pg-connections (8), streaming every mapping and polling each every P seconds:
//  - the initial load: its time; sfbridge's peak RSS (VmHWM) through the step;
//  - Postgres sessions: the most sfbridge held at once (its TCP connections to Postgres,
//    sampled every 100 ms through the load, idle and latency phases), beside
//    --pg-connections + 3;
//  - idle: RSS, CPU (user + system, % of one core) and Salesforce API calls (sfsim's own count
//    of DailyApiRequests), over two and a half poll intervals from when every mapping has
//    polled once; the calls per poll in that window, times the polls an hour holds, give the
//    calls an hour;
//  - inbound latency at 500 changes/s spread over the mappings (one sfsim generator each, at
//    500/N a second): from each change's save in sfsim to its row's commit in Postgres (a
//    trigger NOTIFYs the save time, in microseconds, that sfsim writes into Text__c), p50 and p99.
// The one-mapping step is the baseline each later step is compared with (same run, ratio).
//
// sfsim's PushTopic limit is raised past the step's mappings (a real org allows 40 to 100:
// past that, the rest are polled, as test/bridge/push_topic_limit_test.cpp shows), so that every
// mapping streams and the latency compares like with like.
//
// Usage: scale --sfsim PATH --sfbridge PATH [--steps 1,10,50,200] [--records R]
//              [--rate 500] [--seconds S] [--poll-seconds P] [--idle-seconds I] [--json FILE]
//        (SFBRIDGE_BENCH_PG_DSN: the database)

#include "bench/bridge_process.hpp"
#include "bench/stage_metrics.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace sfbridge;
using namespace sfbridge::bench;
using clk = std::chrono::steady_clock;

namespace {

struct options {
    std::string sfsim, sfbridge, json = "scale.json";
    std::vector<int> steps{1, 10, 50, 200};
    long records = 10000, rate = 500, seconds = 20, poll_seconds = 60;
    long idle_seconds = 0; // 0: two and a half poll intervals
    int pg_connections = 8;
};

struct step_figures {
    int mappings = 0;
    double load_s = 0;
    long peak_rss_kb = 0, idle_rss_kb = 0;
    long pg_peak = 0;
    double idle_cpu_pct = 0, api_per_hour = 0, api_per_poll = 0;
    long idle_polls = 0;
    double p50_ms = 0, p99_ms = 0;
    std::map<std::string, std::pair<double, double>> stages; // inside sfbridge: p50, p99 in ms
    long samples = 0;
};

std::string object(int i) {
    return "Sim_Object_" + std::to_string(i) + "__c";
}

std::string table(int i) {
    return "sim_object_" + std::to_string(i) + "__c";
}

std::string schema_of(int n) {
    return "bench_scale_" + std::to_string(n);
}

// N read-only mappings of a realistic mix of field types, streamed and polled every P s.
std::string mapping_file(int n, long poll_seconds) {
    std::string out = R"({"version":1,"mappings":[)";
    for (int i = 1; i <= n; ++i)
        out += std::string(i > 1 ? "," : "") + R"({"object_name":")" + object(i) +
               R"(","config":{"access":"read_only","sf_notify_enabled":true,)"
               R"("sf_polling_seconds":)" +
               std::to_string(poll_seconds) +
               R"(,"fields":{"Id":{},"Name":{},"Text__c":{},"Checkbox__c":{},"Number__c":{},)"
               R"("Int__c":{},"Currency__c":{},"Date__c":{},"DateTime__c":{},"Picklist__c":{},)"
               R"("Email__c":{},"LongTextArea__c":{},"Account__c":{},"IsDeleted":{},)"
               R"("SystemModstamp":{}}}})";
    return out + "]}";
}

// The TCP connections process `pid` has open to Postgres's `port` (its sessions): its socket
// inodes (/proc/<pid>/fd), found among the established connections of /proc/<pid>/net/tcp.
// Counted on the client's side, so nothing else using the database is counted.
long sessions(long pid, int port) {
    std::set<std::string> inodes;
    const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(fd_dir, ec)) {
        std::error_code lec;
        const std::string target = std::filesystem::read_symlink(e.path(), lec).string();
        if (!lec && target.rfind("socket:[", 0) == 0)
            inodes.insert(target.substr(8, target.size() - 9));
    }
    char want[8];
    std::snprintf(want, sizeof want, ":%04X", port);
    long n = 0;
    for (const char* file : {"/net/tcp", "/net/tcp6"}) {
        std::ifstream in("/proc/" + std::to_string(pid) + file);
        std::string line;
        std::getline(in, line); // the header
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string slot, local, remote, state, skip, inode;
            f >> slot >> local >> remote >> state;
            for (int i = 0; i < 5; ++i)
                f >> skip; // tx/rx queues, timer, retransmits, uid, timeout
            f >> inode;
            if (state == "01" && remote.size() > 5 && remote.substr(remote.size() - 5) == want &&
                inodes.count(inode))
                ++n;
        }
    }
    return n;
}

// Samples a process's Postgres sessions every 100 ms until told to stop; owned by the sampling
// coroutine and the step alike, so a step that throws leaves nothing dangling.
struct session_sampler {
    long pid = 0;
    int port = 0;
    bool stop = false;
    long peak = 0;
};

asio::awaitable<void> sample_sessions(std::shared_ptr<session_sampler> s) {
    while (!s->stop) {
        s->peak = std::max(s->peak, sessions(s->pid, s->port));
        co_await sleep_ms(100);
    }
}

// The port in a libpq key=value DSN (5432 when it names none).
int dsn_port(const std::string& dsn) {
    const auto at = dsn.find("port=");
    return at == std::string::npos ? 5432 : std::stoi(dsn.substr(at + 5));
}

long rss_kb(long pid, const char* key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0)
            return std::stol(line.substr(std::strlen(key)));
    return -1;
}

// The API calls sfsim has counted today.
asio::awaitable<long> api_used(test::http_client& api) {
    auto r = co_await api.call(http::verb::get, "/services/data/v60.0/limits");
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    std::int64_t max = 0, remaining = 0;
    if (p.parse(r.body).get(doc) || doc["DailyApiRequests"]["Max"].get(max) ||
        doc["DailyApiRequests"]["Remaining"].get(remaining))
        throw std::runtime_error("sfsim limits: " + r.body.substr(0, 200));
    co_return static_cast<long>(max - remaining);
}

// The sum of a counter over its samples in sfbridge's /metrics.
double metric_sum(const std::string& text, const std::string& name) {
    double sum = 0;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(name + "{", 0) == 0 || line.rfind(name + " ", 0) == 0)
            sum += std::stod(line.substr(line.rfind(' ') + 1));
    return sum;
}

asio::awaitable<double> polls(test::http_client& endpoint) {
    auto r = co_await control(endpoint, http::verb::get, "/metrics", "");
    co_return metric_sum(r.body, "sfbridge_polls_total");
}

// How many mappings have polled at least once.
asio::awaitable<int> mappings_polled(test::http_client& endpoint) {
    auto r = co_await control(endpoint, http::verb::get, "/metrics", "");
    int n = 0;
    std::istringstream in(r.body);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("sfbridge_polls_total{", 0) == 0 &&
            std::stod(line.substr(line.rfind(' ') + 1)) > 0)
            ++n;
    co_return n;
}

// Each change's latency, in ms, from N generators of rate/N updates a second for `seconds`.
// The completion of the bench's background coroutines: what one throws is printed and ends
// the run (figures taken without it would be wrong), never lost.
void exit_on_exception(std::exception_ptr e) {
    if (!e)
        return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        std::fprintf(stderr, "scale: a background task failed: %s\n", x.what());
    }
    std::_Exit(1);
}

// The generators, started by a coroutine of their own while the notifications are read (a
// NOTIFY read late would count as latency). Shared with it, so a step that throws leaves
// nothing dangling.
struct generators {
    std::vector<std::string> jobs;
    bool started = false;
    std::string error;
};

asio::awaitable<void> start_generators(std::shared_ptr<generators> g,
                                       std::shared_ptr<test::http_client> sim, const options& o,
                                       int n, double each, long count) {
    try {
        for (int i = 1; i <= n; ++i) {
            char rate[32];
            std::snprintf(rate, sizeof rate, "%.4f", each);
            auto r = co_await control(*sim, http::verb::post, "/__sim/generate",
                                      R"({"object":")" + object(i) +
                                          R"(","kind":"update","stamp_field":"Text__c","count":)" +
                                          std::to_string(count) + R"(,"rate":)" + rate + "}");
            g->jobs.push_back("/__sim/generate/" + json_field(r.body, "generator"));
            // Their phases spread: generator i's changes come 1/rate after generator i-1's,
            // so the mappings' changes interleave as one steady stream of `rate` a second, as
            // the one mapping's do, rather than all N at once every N/rate seconds.
            co_await sleep_ms(std::max(1L, 1000 / o.rate));
        }
    } catch (const std::exception& e) {
        g->error = e.what();
    }
    g->started = true;
}

// Each change's latency, in ms, from N generators of rate/N updates a second for `seconds`.
asio::awaitable<void> latency(asio::io_context& io, pg::connection& listen, test::http_client& sim,
                              std::uint16_t sim_port, const options& o, int n,
                              std::vector<double>& out) {
    const double each = static_cast<double>(o.rate) / n;
    const long count = std::max(1L, std::lround(each * static_cast<double>(o.seconds)));
    auto g = std::make_shared<generators>();
    auto starter = std::make_shared<test::http_client>(io, sim_port);
    asio::co_spawn(co_await asio::this_coro::executor,
                   start_generators(g, starter, o, n, each, count), exit_on_exception);
    const auto& jobs = g->jobs;
    const auto give_up = clk::now() + std::chrono::seconds(o.seconds + 120);
    auto last = clk::now();
    std::size_t finished = 0;
    pg::diagnostics pd;
    while (clk::now() < give_up) {
        pg::notification note;
        auto ec =
            co_await listen.async_receive_notification(note, pd, std::chrono::milliseconds(250));
        if (ec == boost::system::errc::timed_out) {
            // (No co_await in the operands of && : GCC 12.)
            while (finished < jobs.size()) {
                const auto st = co_await control(sim, http::verb::get, jobs[finished], "");
                if (json_field(st.body, "finished") != "true")
                    break;
                ++finished;
            }
            if (!g->error.empty())
                throw std::runtime_error("starting the generators: " + g->error);
            if (g->started && finished == jobs.size() &&
                clk::now() - last > std::chrono::seconds(2))
                break;
            continue;
        }
        if (ec)
            throw std::runtime_error(pd.summary());
        const auto at = now_us();
        last = clk::now();
        std::int64_t saved = 0;
        const auto parsed =
            std::from_chars(note.payload.data(), note.payload.data() + note.payload.size(), saved);
        if (parsed.ec != std::errc() || parsed.ptr != note.payload.data() + note.payload.size())
            throw std::runtime_error("a row without sfsim's stamp: '" + note.payload + "'");
        out.push_back(static_cast<double>(at - saved) / 1000.0);
    }
    const long expected = count * n;
    if (static_cast<long>(out.size()) < expected * 9 / 10)
        throw std::runtime_error("latency: " + std::to_string(out.size()) + " rows of " +
                                 std::to_string(expected) + " changes arrived");
}

// The stamp trigger on each table, and LISTEN.
asio::awaitable<void> stamp_triggers(pg::connection& listen, const std::string& schema, int n) {
    std::string sql = "CREATE FUNCTION " + schema +
                      R"(.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('bench_scale', coalesce(NEW.text__c, '')); RETURN NULL; END $$;)";
    for (int i = 1; i <= n; ++i)
        sql += "CREATE TRIGGER bench_stamp AFTER UPDATE ON " + schema + "." + table(i) +
               " FOR EACH ROW EXECUTE FUNCTION " + schema + ".stamp();";
    co_await exec(listen, sql + "LISTEN bench_scale");
}

asio::awaitable<void> wait_until(pg::connection& c, const std::string& sql, const std::string& want,
                                 const sfbridge_process& p, const char* what) {
    const auto give_up = clk::now() + std::chrono::minutes(30);
    while (co_await scalar(c, sql) != want) {
        if (!p.alive())
            throw std::runtime_error(std::string("sfbridge exited while ") + what + ":\n" +
                                     p.log().substr(0, 4000));
        if (clk::now() > give_up)
            throw std::runtime_error(std::string("timed out: ") + what);
        co_await sleep_ms(100);
    }
}

asio::awaitable<step_figures> run_step(asio::io_context& io, const options& o, std::uint16_t port,
                                       test::http_client& sim, test::http_client& api, int n) {
    step_figures f;
    f.mappings = n;
    const std::string dsn = bench_dsn();
    const std::string schema = schema_of(n);
    pg::connection c(io.get_executor()), listen(io.get_executor());
    auto sampler = std::make_shared<session_sampler>();
    struct stop_sampling {
        std::shared_ptr<session_sampler> s;
        ~stop_sampling() { s->stop = true; }
    } stop_at_exit{sampler};
    pg::diagnostics pd;
    // (Not a loop over an initializer list: GCC 12 loses its array across the co_await.)
    if (co_await c.async_connect(dsn, pd))
        throw std::runtime_error(pd.summary());
    if (co_await listen.async_connect(dsn, pd))
        throw std::runtime_error(pd.summary());
    co_await exec(c, "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    const std::string mpath =
        "/tmp/sfbridge-bench-scale-" + std::to_string(getpid()) + "-" + std::to_string(n) + ".json";
    std::ofstream(mpath) << mapping_file(n, o.poll_seconds);
    const std::uint16_t http_port = free_port();
    const auto t0 = clk::now();
    sfbridge_process bridge(o.sfbridge, bench_dsn(), port, mpath, mpath + ".log", schema, http_port,
                            {{"SFBRIDGE_PG_CONNECTIONS", std::to_string(o.pg_connections)}});
    sampler->pid = bridge.pid();
    sampler->port = dsn_port(bench_dsn());
    asio::co_spawn(io, sample_sessions(sampler), exit_on_exception);
    test::http_client endpoint(io, http_port);
    // 1. Loaded: every mapping's state row says so, and each has polled once since.
    co_await wait_until(c, "SELECT to_regclass('" + schema + "._sfbridge_state') IS NOT NULL", "t",
                        bridge, "starting");
    co_await wait_until(
        c, "SELECT count(*) FROM " + schema + "._sfbridge_state WHERE load_state = 'loaded'",
        std::to_string(n), bridge, "loading");
    f.load_s = std::chrono::duration<double>(clk::now() - t0).count();
    for (const auto give_up = clk::now() + std::chrono::minutes(10);;) {
        const int polled = co_await mappings_polled(endpoint);
        if (polled >= n)
            break;
        if (!bridge.alive() || clk::now() > give_up)
            throw std::runtime_error("only " + std::to_string(polled) + " of " + std::to_string(n) +
                                     " mappings polled");
        co_await sleep_ms(100);
    }
    f.peak_rss_kb = rss_kb(bridge.pid(), "VmHWM:");

    // 2. Idle: two and a half poll intervals (each mapping polls twice in it).
    const long used0 = co_await api_used(api);
    const long own = co_await api_used(api) - used0; // what the bench's own call costs
    const double polls0 = co_await polls(endpoint), cpu0 = cpu_seconds(bridge.pid());
    const auto idle0 = clk::now();
    co_await sleep_ms(o.idle_seconds > 0 ? o.idle_seconds * 1000 : o.poll_seconds * 2500);
    const double cpu1 = cpu_seconds(bridge.pid());
    const double idle_s = std::chrono::duration<double>(clk::now() - idle0).count();
    const long used1 = co_await api_used(api);
    f.idle_polls = std::lround(co_await polls(endpoint) - polls0);
    // Per poll, times the polls an hour holds (the window's edges would otherwise count one
    // poll more or less of every mapping); idle calls other than polls are counted as polls'.
    f.api_per_poll = f.idle_polls > 0 ? static_cast<double>(used1 - used0 - 2 * own) /
                                            static_cast<double>(f.idle_polls)
                                      : 0;
    f.api_per_hour = f.api_per_poll * n * 3600.0 / static_cast<double>(o.poll_seconds);
    f.idle_cpu_pct = (cpu1 - cpu0) / idle_s * 100.0;
    f.idle_rss_kb = rss_kb(bridge.pid(), "VmRSS:");

    // 3. Latency.
    co_await stamp_triggers(listen, schema, n);
    std::vector<double> lat;
    const auto stages0 =
        parse_stages((co_await control(endpoint, http::verb::get, "/metrics", "")).body);
    co_await latency(io, listen, sim, port, o, n, lat);
    const auto stages1 =
        parse_stages((co_await control(endpoint, http::verb::get, "/metrics", "")).body);
    for (const char* stage : {"queue", "batch", "commit"})
        f.stages[stage] = {stage_quantile(stages1, stages0, stage, 0.5) * 1000,
                           stage_quantile(stages1, stages0, stage, 0.99) * 1000};
    f.samples = static_cast<long>(lat.size());
    f.p50_ms = percentile(lat, 0.5);
    f.p99_ms = percentile(lat, 0.99);
    f.peak_rss_kb = std::max(f.peak_rss_kb, rss_kb(bridge.pid(), "VmHWM:"));

    f.pg_peak = sampler->peak;
    if (const int rc = bridge.stop(); rc != 0)
        throw std::runtime_error("sfbridge exited with " + std::to_string(rc));
    co_await exec(c, "DROP SCHEMA " + schema + " CASCADE");
    co_return f;
}

asio::awaitable<int> run(asio::io_context& io, const options& o, std::uint16_t port,
                         std::vector<step_figures>& out) {
    test::http_client sim(io, port);
    test::http_client api(io, port);
    api.token = co_await sim_login(api);
    const int most = *std::max_element(o.steps.begin(), o.steps.end());
    std::fprintf(stderr, "sfsim: %ld records in each of %d objects...\n", o.records, most);
    // Nothing selected for Change Data Capture (the mappings stream PushTopics): otherwise each
    // record created would keep two change events in sfsim's memory, 2 million records at 200.
    (void)co_await control(sim, http::verb::put, "/__sim/cdc", R"({"selected":[]})");
    for (int i = 1; i <= most; ++i) {
        auto g = co_await control(sim, http::verb::post, "/__sim/generate",
                                  R"({"object":")" + object(i) + R"(","kind":"create","count":)" +
                                      std::to_string(o.records) + R"(,"bulk":true})");
        co_await wait_generated(sim, json_field(g.body, "generator"));
    }
    for (const int n : o.steps) {
        std::fprintf(stderr, "step: %d mappings...\n", n);
        out.push_back(co_await run_step(io, o, port, sim, api, n));
        const auto& f = out.back();
        std::fprintf(stderr,
                     "  loaded in %.1f s; peak RSS %ld kB; sessions %ld; idle %.2f%% CPU, %.0f "
                     "API calls/h; latency p50 %.2f ms p99 %.2f ms\n",
                     f.load_s, f.peak_rss_kb, f.pg_peak, f.idle_cpu_pct, f.api_per_hour, f.p50_ms,
                     f.p99_ms);
        std::fprintf(stderr, "  inside sfbridge (ms):");
        for (const auto& [stage, q] : f.stages)
            std::fprintf(stderr, " %s p50 %.3f p99 %.3f;", stage.c_str(), q.first, q.second);
        std::fprintf(stderr, "\n");
    }
    co_return 0;
}

std::vector<int> parse_steps(const std::string& v) {
    std::vector<int> out;
    std::istringstream in(v);
    std::string item;
    while (std::getline(in, item, ','))
        out.push_back(std::stoi(item));
    if (out.empty() || *std::min_element(out.begin(), out.end()) < 1)
        throw std::runtime_error("--steps expects positive numbers, comma-separated");
    return out;
}

void print(const options& o, const std::vector<step_figures>& steps) {
    const auto& base = steps.front();
    const auto ratio = [](double v, double b) { return b > 0 ? v / b : 0.0; };
    std::printf("mappings  load s  peak RSS MB  idle RSS MB  PG sessions  idle CPU %%  API "
                "calls/h (a poll)  latency p50 ms  p99 ms   p50 / p99 vs %d mapping%s\n",
                base.mappings, base.mappings == 1 ? "" : "s");
    for (const auto& f : steps)
        std::printf(
            "%8d  %6.1f  %11.1f  %11.1f  %5ld of %2d  %10.2f  %9.0f (%5.1f)  %14.2f  %6.2f   "
            "%5.2fx / %5.2fx\n",
            f.mappings, f.load_s, f.peak_rss_kb / 1024.0, f.idle_rss_kb / 1024.0, f.pg_peak,
            o.pg_connections + 3, f.idle_cpu_pct, f.api_per_hour, f.api_per_poll, f.p50_ms,
            f.p99_ms, ratio(f.p50_ms, base.p50_ms), ratio(f.p99_ms, base.p99_ms));
    std::printf("(%ld records a mapping; polling every %ld s, idle over 2.5 intervals; %ld "
                "changes/s over all mappings for %ld s; API calls an hour from the calls a poll; "
                "PG sessions: the most at once, beside "
                "--pg-connections + 3)\n",
                o.records, o.poll_seconds, o.rate, o.seconds);
    std::ofstream js(o.json);
    js << "{\"steps\":[";
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto& f = steps[i];
        js << (i ? "," : "") << "{\"mappings\":" << f.mappings << ",\"load_s\":" << f.load_s
           << ",\"peak_rss_kb\":" << f.peak_rss_kb << ",\"idle_rss_kb\":" << f.idle_rss_kb
           << ",\"pg_sessions_peak\":" << f.pg_peak << ",\"idle_cpu_pct\":" << f.idle_cpu_pct
           << ",\"api_calls_per_hour\":" << f.api_per_hour
           << ",\"api_calls_per_poll\":" << f.api_per_poll << ",\"idle_polls\":" << f.idle_polls
           << ",\"latency_ms\":{\"p50\":" << f.p50_ms << ",\"p99\":" << f.p99_ms
           << ",\"samples\":" << f.samples << "}}";
    }
    js << "]}\n";
    std::printf("figures written to %s\n", o.json.c_str());
}

} // namespace

int main(int argc, char** argv) {
    options o;
    try {
        for (int i = 1; i + 1 < argc; i += 2) {
            const std::string f = argv[i], v = argv[i + 1];
            if (f == "--sfsim")
                o.sfsim = v;
            else if (f == "--sfbridge")
                o.sfbridge = v;
            else if (f == "--steps")
                o.steps = parse_steps(v);
            else if (f == "--records")
                o.records = std::stol(v);
            else if (f == "--rate")
                o.rate = std::stol(v);
            else if (f == "--seconds")
                o.seconds = std::stol(v);
            else if (f == "--poll-seconds")
                o.poll_seconds = std::stol(v);
            else if (f == "--idle-seconds")
                o.idle_seconds = std::stol(v);
            else if (f == "--json")
                o.json = v;
            else
                throw std::runtime_error("unknown option " + f);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "scale: %s\n", e.what());
        return 2;
    }
    if (o.sfsim.empty() || o.sfbridge.empty()) {
        std::fprintf(stderr,
                     "usage: scale --sfsim PATH --sfbridge PATH [--steps 1,10,50,200] "
                     "[--records R] [--rate R] [--seconds S] [--poll-seconds P] [--idle-seconds I] "
                     "[--json FILE]\n");
        return 2;
    }
    const int most = *std::max_element(o.steps.begin(), o.steps.end());
    std::vector<step_figures> steps;
    bench::sfsim_process sim(o.sfsim, 0,
                             {"--synthetic-objects", std::to_string(most), "--push-topic-limit",
                              std::to_string(most), "--connect-timeout", "20000"});
    asio::io_context io(1);
    const int rc = run_to_end(io, "scale", run(io, o, sim.port(), steps));
    if (rc != 0 || steps.empty())
        return rc != 0 ? rc : 1;
    print(o, steps);
    return 0;
}
