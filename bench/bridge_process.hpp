#pragma once

// What the sync benchmarks share: sfbridge as a child process, sfsim's control API, and small
// Postgres helpers.
#include "bench/sfsim_process.hpp"
#include "bench/support/http_client.hpp"
#include "core/calendar.hpp"
#include "pg/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <sstream>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <vector>

namespace sfbridge::bench {

namespace asio = boost::asio;
namespace http = boost::beast::http;

inline std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

inline std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The benchmark's database (./scripts/bench starts a throwaway PostgreSQL and sets it).
inline std::string bench_dsn() {
    const char* dsn = std::getenv("SFBRIDGE_BENCH_PG_DSN");
    if (!dsn)
        throw std::runtime_error("SFBRIDGE_BENCH_PG_DSN is not set (run through ./scripts/bench)");
    return dsn;
}

inline asio::awaitable<void> sleep_ms(long ms) {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
    co_await t.async_wait(asio::use_awaitable);
}

// A loopback port free at the time of asking (for a child's listener).
inline std::uint16_t free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    const bool ok = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    if (fd >= 0)
        close(fd);
    if (!ok)
        throw std::runtime_error("no free port");
    return ntohs(a.sin_port);
}

// sfbridge as a child process, pinned to a core, its log in a file (and its HTTP endpoint on
// `http_port`, unless 0).
class sfbridge_process {
public:
    sfbridge_process(const std::string& exe, const std::string& dsn, std::uint16_t sim_port,
                     const std::string& mappings_path, const std::string& log_path,
                     const std::string& schema, std::uint16_t http_port = 0,
                     const std::vector<std::pair<std::string, std::string>>& env = {})
        : log_(log_path) {
        pid_ = fork();
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL); // a benchmark that crashes leaves no child behind
            pin_to_cpu(1);
            FILE* f = std::freopen(log_path.c_str(), "w", stderr);
            (void)f;
            setenv("DATABASE_URL", dsn.c_str(), 1);
            const std::string url = "http://127.0.0.1:" + std::to_string(sim_port);
            setenv("SALESFORCE_LOGIN_URL", url.c_str(), 1);
            setenv("SALESFORCE_CLIENT_ID", "sfsim-client-id", 1);
            setenv("SALESFORCE_CLIENT_SECRET", "sfsim-client-secret", 1);
            setenv("SALESFORCE_USERNAME", "integration@sfsim.test", 1);
            setenv("SALESFORCE_PASSWORD", "sfsim-password", 1);
            for (const auto& [k, v] : env)
                setenv(k.c_str(), v.c_str(), 1);
            if (http_port != 0) {
                const std::string http = "127.0.0.1:" + std::to_string(http_port);
                setenv("SFBRIDGE_HTTP", http.c_str(), 1);
            }
            std::vector<std::string> args{exe,        "run",  "--mappings",  mappings_path,
                                          "--schema", schema, "--log-level", "info"};
            std::vector<char*> argv;
            for (auto& a : args)
                argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(exe.c_str(), argv.data());
            std::perror("exec sfbridge");
            _exit(127);
        }
    }
    ~sfbridge_process() { stop(); }
    // SIGKILL, and reaped.
    void kill_now() {
        if (pid_ <= 0)
            return;
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    int stop() {
        if (pid_ <= 0)
            return 0;
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    }
    [[nodiscard]] long peak_rss_kb() const {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("VmHWM:", 0) == 0)
                return std::stol(line.substr(6));
        return -1;
    }
    [[nodiscard]] std::string log() const {
        std::ifstream in(log_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    [[nodiscard]] bool alive() const { return pid_ > 0 && kill(pid_, 0) == 0; }
    [[nodiscard]] long pid() const noexcept { return pid_; }

private:
    pid_t pid_ = -1;
    std::string log_;
};

// The ms timestamp of a log line containing `needle` (ts=...Z at its start); -1 if none.
inline std::int64_t log_time(const std::string& log, const std::string& needle) {
    auto at = log.find(needle);
    if (at == std::string::npos)
        return -1;
    auto line_start = log.rfind('\n', at);
    line_start = line_start == std::string::npos ? 0 : line_start + 1;
    // ts=2026-11-26T10:35:12.429Z
    const std::string ts = log.substr(line_start + 3, 24);
    int y, mo, d, h, mi, s, ms;
    if (std::sscanf(ts.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &y, &mo, &d, &h, &mi, &s, &ms) != 7)
        return -1;
    return ((calendar::days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + s * 1000LL + ms;
}

// An OAuth token from sfsim for its REST API (the benchmarks' own queries).
inline asio::awaitable<std::string> sim_login(test::http_client& c) {
    std::map<std::string, std::string> h;
    h["Content-Type"] = "application/x-www-form-urlencoded";
    auto r =
        co_await c.call(http::verb::post, "/services/oauth2/token",
                        "grant_type=password&client_id=sfsim-client-id&client_secret=sfsim-"
                        "client-secret&username=integration@sfsim.test&password=sfsim-password",
                        h);
    co_return json_field(r.body, "access_token");
}

// Runs a benchmark's coroutine to its end; its result, or 1 after printing what it threw.
inline int run_to_end(asio::io_context& io, const char* name, asio::awaitable<int> body) {
    int rc = 1;
    asio::co_spawn(io, std::move(body), [&](std::exception_ptr e, int r) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::fprintf(stderr, "%s: %s\n", name, x.what());
            }
            return;
        }
        rc = r;
    });
    io.run();
    return rc;
}

inline asio::awaitable<test::http_reply> control(test::http_client& c, http::verb v,
                                                 std::string target, std::string body) {
    std::map<std::string, std::string> headers;
    headers["Content-Type"] = "application/json";
    auto r = co_await c.call(v, std::move(target), std::move(body), std::move(headers),
                             std::chrono::seconds(120));
    if (r.status >= 300)
        throw std::runtime_error("sfsim control call failed: " + r.body);
    co_return r;
}

inline asio::awaitable<void> wait_generated(test::http_client& c, const std::string& job) {
    while (true) {
        auto r = co_await control(c, http::verb::get, "/__sim/generate/" + job, "");
        if (json_field(r.body, "finished") == "true")
            co_return;
        co_await sleep_ms(50);
    }
}

inline asio::awaitable<std::string> scalar(pg::connection& c, const std::string& sql) {
    pg::result r;
    pg::diagnostics d;
    auto ec = co_await c.async_query(sql, r, d);
    if (ec || r.rows() != 1)
        throw std::runtime_error(sql + ": " + d.summary());
    co_return r.is_null(0, 0) ? std::string() : std::string(r.value(0, 0));
}

inline asio::awaitable<void> exec(pg::connection& c, const std::string& sql) {
    pg::diagnostics d;
    if (co_await c.async_exec(sql, d))
        throw std::runtime_error(sql.substr(0, 200) + ": " + d.summary());
}

// User and system CPU time of a process, in seconds (0 once it is gone).
inline double cpu_seconds(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')'); // the command may hold spaces
    if (close == std::string::npos)
        return 0;
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
        if (i == 14)
            utime = std::stoull(f);
        if (i == 15)
            stime = std::stoull(f);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The CPU time of sfbridge's Postgres sessions (the same machine), by backend pid; not the
// asking session's (the benchmark's connections carry the same application name).
inline asio::awaitable<std::map<long, double>> backend_cpu(pg::connection& c) {
    pg::result r;
    pg::diagnostics d;
    if (co_await c.async_query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'sfbridge' AND pid <> "
            "pg_backend_pid()",
            r, d))
        throw std::runtime_error(d.summary());
    std::map<long, double> out;
    for (int i = 0; i < r.rows(); ++i) {
        const long pid = std::stol(std::string(r.value(i, 0)));
        out[pid] = cpu_seconds(pid);
    }
    co_return out;
}

inline double percentile(std::vector<double> v, double p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

} // namespace sfbridge::bench
