#include "test/chaos/soak.hpp"

#include "core/json_writer.hpp"
#include "test/chaos/util.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace sfbridge::chaos {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::vector<fault> soak_plan(long run_ms) {
    static constexpr fault_kind kinds[] = {
        fault_kind::pg_terminate,     fault_kind::forget_clients, fault_kind::expire_tokens,
        fault_kind::drop_connections, fault_kind::pg_reset,       fault_kind::fail_share,
        fault_kind::lock_share,       fault_kind::answer_dropped, fault_kind::pg_cut};
    std::vector<fault> out;
    std::size_t k = 0;
    for (long at = 30000; at + 10000 < run_ms; at += 60000, ++k) {
        fault f;
        f.kind = kinds[k % std::size(kinds)];
        f.at_ms = at;
        if (f.kind == fault_kind::fail_share || f.kind == fault_kind::lock_share) {
            f.value = 10;
            f.duration_ms = 3000;
        } else if (f.kind == fault_kind::answer_dropped) {
            f.value = 1;
            f.duration_ms = 10000;
        } else if (f.kind == fault_kind::pg_cut) {
            f.duration_ms = 2000;
        }
        out.push_back(f);
    }
    return out;
}

std::vector<std::string> soak_bridge_args() {
    return {"--retention-days", "0.003"}; // 259 s
}

std::vector<std::string> soak_bridge_env() {
    return {"SFBRIDGE_TEST_TOMBSTONE_SECONDS=240"};
}

namespace {

// A field of /proc/<pid>/status in kB (VmRSS), or -1.
double proc_status_kb(pid_t pid, const std::string& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + ":", 0) == 0)
            return std::stod(line.substr(key.size() + 1));
    return -1;
}

double open_fds(pid_t pid) {
    std::error_code ec;
    double n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return ec ? -1 : n;
}

// Milliseconds until `sql` returns `want`, at most 30 s (then 30000).
asio::awaitable<double> until_equal(pg::connection& c, const std::string& sql,
                                    const std::string& want, steady_clock::time_point t0) {
    while (steady_clock::now() - t0 < std::chrono::seconds(30)) {
        const std::string got = co_await scalar(c, sql); // (not compared in the co_await: GCC 12)
        if (got == want)
            break;
        co_await pause(milliseconds(5));
    }
    co_return std::chrono::duration<double, std::milli>(steady_clock::now() - t0).count();
}

struct probes {
    world& w;
    pg::connection& c;
    const object_spec& s;
    std::string table, sfid;
    long n = 0;

    // Salesforce to Postgres: a change of the probe record until its row has it.
    asio::awaitable<double> inbound() {
        const std::string value = "probe " + std::to_string(++n);
        std::string body;
        json::writer j(body);
        j.begin_array().begin_object().member("Id", sfid).member(s.shared, value);
        j.end_object().end_array();
        const auto t0 = steady_clock::now();
        (void)co_await w.control(http::verb::patch, "/__sim/records/" + s.object, body, 3);
        const std::string sql =
            "SELECT \"" + lower(s.shared) + "\" FROM " + table + " WHERE sfid = '" + sfid + "'";
        const double ms = co_await until_equal(c, sql, value, t0);
        co_return ms;
    }
    // Postgres to Salesforce: an app insert until its row has its sfid.
    asio::awaitable<double> outbound() {
        const std::string marker = "probe-out-" + std::to_string(++n);
        const auto t0 = steady_clock::now();
        (void)co_await scalar(c, "INSERT INTO " + table + " (\"" + lower(s.marker) +
                                     "\") VALUES ('" + marker + "') RETURNING id");
        const std::string sql = "SELECT sfid IS NOT NULL FROM " + table + " WHERE \"" +
                                lower(s.marker) + "\" = '" + marker + "'";
        const std::string yes = "t";
        const double ms = co_await until_equal(c, sql, yes, t0);
        (void)co_await scalar(c, "DELETE FROM " + table + " WHERE \"" + lower(s.marker) + "\" = '" +
                                     marker + "' RETURNING id");
        co_return ms;
    }
};

} // namespace

asio::awaitable<void> sample(world& w, const std::string& schema, const object_spec& probe,
                             steady_clock::time_point until, std::vector<series>& out) {
    // Slack: what a bounded measure may still rise over the second half, in its unit or as
    // a share of its mean (rows kept for a retention window swing with the load).
    out = {{"sfbridge_rss_kb", 8192, false, 0.1, {}},
           {"sfbridge_open_fds", 8, false, 0, {}},
           {"pg_connections", 2, false, 0, {}},
           {"writeback_backlog", 200, false, 0, {}},
           {"trigger_log_rows", 500, false, 0.25, {}},
           {"trigger_log_archive_rows", 500, false, 0.25, {}},
           {"sfbridge_errors_rows", 50, false, 0.25, {}},
           {"sfbridge_conflicts_rows", 50, false, 0.25, {}},
           {"tombstones", 200, false, 0.25, {}},
           {"notify_queue_ppm", 100, false, 0, {}},
           {"inbound_ms", 50, true, 0, {}},
           {"outbound_ms", 50, true, 0, {}}};
    pg::connection c(co_await asio::this_coro::executor);
    const std::string q = "\"" + schema + "\".";
    const std::string table = q + "\"" + probe.table + "\"";
    std::string sfid;
    while (steady_clock::now() < until) {
        if (!c.is_open() && !co_await w.connect(c)) {
            co_await pause(milliseconds(500));
            continue;
        }
        if (sfid.empty()) // the probe record, made through the app
            sfid = co_await scalar(c, "SELECT sfid FROM " + table + " WHERE \"" +
                                          lower(probe.marker) + "\" = 'probe-in'");
        if (sfid.empty()) {
            (void)co_await scalar(c, "INSERT INTO " + table + " (\"" + lower(probe.marker) +
                                         "\") SELECT 'probe-in' WHERE NOT EXISTS (SELECT 1 FROM " +
                                         table + " WHERE \"" + lower(probe.marker) +
                                         "\" = 'probe-in') RETURNING id");
            co_await pause(milliseconds(500));
            continue;
        }
        const auto next = steady_clock::now() + std::chrono::seconds(10);
        pg::result r;
        pg::diagnostics d;
        const auto ec = co_await c.async_query(
            "SELECT (SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE "
            "'sfbridge%'), (SELECT count(*) FROM " +
                q + "_trigger_log WHERE state IN ('NEW', 'PENDING')), (SELECT count(*) FROM " + q +
                "_trigger_log), (SELECT count(*) FROM " + q +
                "_trigger_log_archive), (SELECT count(*) FROM " + q +
                "_sfbridge_errors), (SELECT count(*) FROM " + q +
                "_sfbridge_conflicts), (SELECT count(*) FROM " + q +
                "_sfbridge_deleted), pg_notification_queue_usage() * 1000000",
            r, d);
        const pid_t pid = w.bridge_pid();
        if (ec || r.rows() != 1 || pid <= 0) {
            co_await pause(milliseconds(1000));
            continue;
        }
        probes p{w, c, probe, table, sfid};
        out[0].values.push_back(proc_status_kb(pid, "VmRSS"));
        out[1].values.push_back(open_fds(pid));
        for (int i = 0; i < 8; ++i)
            out[static_cast<std::size_t>(2 + i)].values.push_back(
                std::stod(std::string(r.value(0, i))));
        out[10].values.push_back(co_await p.inbound());
        out[11].values.push_back(co_await p.outbound());
        std::printf("  sample %zu: rss %.0f kB, fds %.0f, backlog %.0f, archive %.0f, inbound "
                    "%.1f ms, outbound %.1f ms\n",
                    out[0].values.size(), out[0].values.back(), out[1].values.back(),
                    out[3].values.back(), out[5].values.back(), out[10].values.back(),
                    out[11].values.back());
        std::fflush(stdout);
        co_await pause_until(next);
    }
}

} // namespace sfbridge::chaos
