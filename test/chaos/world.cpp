#include "test/chaos/world.hpp"

#include "test/chaos/util.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <simdjson.h>

#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sfbridge::chaos {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

std::string url_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '_' || c == '.' || c == '-')
            out += static_cast<char>(c);
        else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string top_string(const std::string& json, const char* key) {
    simdjson::dom::parser p;
    simdjson::dom::element e;
    std::string_view v;
    if (p.parse(json).get(e) || e[key].get_string().get(v))
        return {};
    return std::string(v);
}

} // namespace

child_process::~child_process() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
}

void child_process::start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          const std::string& log_path) {
    pid_ = fork();
    if (pid_ < 0)
        throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive the campaign
        const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        for (const auto& kv : env)
            putenv(const_cast<char*>(kv.c_str())); // NOLINT: the child execs at once
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        std::perror("exec");
        _exit(127);
    }
}

int child_process::poll_exit() {
    if (pid_ <= 0)
        return -1;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_)
        return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

asio::awaitable<int> child_process::stop(int sig, std::chrono::seconds deadline) {
    if (pid_ <= 0)
        co_return -1;
    ::kill(pid_, sig);
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
        const int rc = poll_exit();
        if (rc >= 0)
            co_return rc;
        if (std::chrono::steady_clock::now() > until && sig != SIGKILL) {
            ::kill(pid_, SIGKILL);
            sig = SIGKILL;
        }
        co_await pause(std::chrono::milliseconds(10));
    }
}

world::world(asio::io_context& io, world_options o) : io_(io), o_(std::move(o)) {
    std::smatch m;
    if (!std::regex_search(o_.dsn, m, std::regex(R"(port=(\d+))")))
        throw std::runtime_error("the DSN names no port: " + o_.dsn);
    gate_ = std::make_unique<test::tcp_gate>(io_, static_cast<std::uint16_t>(std::stoi(m[1])));
}

world::~world() = default;

void world::start_sfsim() {
    int fds[2];
    if (pipe(fds) != 0)
        throw std::runtime_error("pipe failed");
    const pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], 1);
        close(fds[0]);
        const std::string log = o_.workdir + "/sfsim.log";
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
            dup2(fd, 2);
        const std::string seed = std::to_string(o_.seed);
        execl(o_.sfsim_exe.c_str(), o_.sfsim_exe.c_str(), "--listen", "127.0.0.1:0", "--log-level",
              "warn", "--seed", seed.c_str(), static_cast<char*>(nullptr));
        std::perror("exec sfsim");
        _exit(127);
    }
    sfsim_.adopt(pid); // killed with the world, even if it never says where it listens
    close(fds[1]);
    std::string line;
    char c;
    while (read(fds[0], &c, 1) == 1 && c != '\n')
        line.push_back(c);
    close(fds[0]);
    const auto colon = line.rfind(':');
    if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos)
        throw std::runtime_error("sfsim did not start: " + line);
    sim_port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
    api_ = std::make_unique<test::http_client>(io_, sim_port_);
}

asio::awaitable<std::string> world::control(http::verb v, std::string target, std::string body,
                                            int attempts) {
    std::unique_ptr<test::http_client> c;
    if (idle_.empty()) {
        c = std::make_unique<test::http_client>(io_, sim_port_);
    } else {
        c = std::move(idle_.back());
        idle_.pop_back();
    }
    std::map<std::string, std::string> headers;
    headers["Content-Type"] = "application/json";
    test::http_reply r;
    for (int i = 0; i < attempts; ++i) {
        r = co_await c->call(v, target, body, headers, std::chrono::seconds(60));
        if (r.status != 0)
            break;
        c->close();
    }
    idle_.push_back(std::move(c));
    if (r.status < 200 || r.status >= 300)
        throw std::runtime_error("sfsim control " + target + " answered " +
                                 std::to_string(r.status) + ": " + r.body.substr(0, 300));
    co_return r.body;
}

void world::start_bridge() {
    const std::string dsn = std::regex_replace(o_.dsn, std::regex(R"(port=\d+)"),
                                               "port=" + std::to_string(gate_->port()));
    ++runs_;
    std::vector<std::string> args{
        o_.sfbridge_exe, "run",     "--mappings",         o_.mappings_path,
        "--schema",      o_.schema, "--poll-interval-ms", "2000",
        "--log-level",   "info"};
    args.insert(args.end(), o_.bridge_args.begin(), o_.bridge_args.end());
    std::vector<std::string> env{
        "DATABASE_URL=" + dsn, "SALESFORCE_LOGIN_URL=http://127.0.0.1:" + std::to_string(sim_port_),
        "SALESFORCE_CLIENT_ID=sfsim-client-id", "SALESFORCE_CLIENT_SECRET=sfsim-client-secret",
        "SALESFORCE_USERNAME=integration@sfsim.test", "SALESFORCE_PASSWORD=sfsim-password",
        "SFBRIDGE_SHUTDOWN_GRACE=30",
        // The deadline answer_late's delay is past (faults.cpp).
        "SALESFORCE_REQUEST_TIMEOUT=" + std::to_string(bridge_request_timeout_s)};
    env.insert(env.end(), o_.bridge_env.begin(), o_.bridge_env.end());
    bridge_.start(args, env, o_.workdir + "/sfbridge.log");
}

asio::awaitable<int> world::stop_bridge(int sig) {
    co_return co_await bridge_.stop(sig, std::chrono::seconds(60));
}

std::string world::bridge_logs() const {
    std::ifstream in(o_.workdir + "/sfbridge.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool world::pg_ctl(const std::string& args) {
    const std::string cmd = o_.pg_ctl + " " + args + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

asio::awaitable<bool> world::connect(pg::connection& c) {
    pg::diagnostics d;
    // The campaign's own sessions are the app's and the checker's: a statement_timeout fault
    // is aimed at sfbridge's.
    const auto ec = co_await c.async_connect(
        o_.dsn + " application_name=chaos options='-c statement_timeout=0'", d);
    co_return !ec;
}

asio::awaitable<std::vector<sim_record>> world::sim_records(const object_spec& spec) {
    if (api_->token.empty()) {
        std::map<std::string, std::string> h;
        h["Content-Type"] = "application/x-www-form-urlencoded";
        auto r = co_await api_->call(
            http::verb::post, "/services/oauth2/token",
            "grant_type=password&client_id=sfsim-client-id&client_secret=sfsim-client-secret&"
            "username=integration@sfsim.test&password=sfsim-password",
            h);
        api_->token = top_string(r.body, "access_token");
    }
    std::string soql = "SELECT Id, IsDeleted, CreatedDate, LastModifiedDate";
    for (const auto& f : spec.fields())
        soql += ", " + f;
    soql += " FROM " + spec.object;
    std::string target = "/services/data/v62.0/queryAll?q=" + url_encode(soql);
    std::vector<sim_record> out;
    simdjson::dom::parser p;
    while (!target.empty()) {
        auto r = co_await api_->call(http::verb::get, target);
        if (r.status != 200)
            throw std::runtime_error("queryAll of " + spec.object + " answered " +
                                     std::to_string(r.status) + ": " + r.body.substr(0, 300));
        simdjson::dom::element doc = p.parse(r.body);
        for (auto rec : doc["records"].get_array()) {
            sim_record s;
            s.id = std::string(std::string_view(rec["Id"]));
            s.deleted = bool(rec["IsDeleted"]);
            s.created = std::string(std::string_view(rec["CreatedDate"]));
            s.modified = std::string(std::string_view(rec["LastModifiedDate"]));
            for (const auto& f : spec.fields()) {
                auto v = rec[f];
                std::string_view text;
                if (!v.error() && !v.get_string().get(text))
                    s.fields[f] = std::string(text);
                else
                    s.fields[f] = std::nullopt;
            }
            out.push_back(std::move(s));
        }
        std::string_view next;
        target = doc["nextRecordsUrl"].get_string().get(next) ? std::string() : std::string(next);
    }
    co_return out;
}

asio::awaitable<std::vector<table_row>> world::table_rows(pg::connection& c,
                                                          const object_spec& spec) {
    std::string sql = "SELECT id, sfid";
    for (const auto& f : spec.fields())
        sql += ", \"" + lower(f) + "\"";
    sql += " FROM " + o_.schema + ".\"" + spec.table + "\"";
    pg::result r;
    pg::diagnostics d;
    if (co_await c.async_query(sql, r, d))
        throw std::runtime_error(sql + ": " + d.summary());
    std::vector<table_row> out;
    const auto fields = spec.fields();
    for (int i = 0; i < r.rows(); ++i) {
        table_row row;
        row.id = std::stoll(std::string(r.value(i, 0)));
        if (!r.is_null(i, 1))
            row.sfid = std::string(r.value(i, 1));
        for (std::size_t k = 0; k < fields.size(); ++k) {
            const int col = static_cast<int>(k) + 2;
            row.fields[fields[k]] =
                r.is_null(i, col) ? std::nullopt : std::optional(std::string(r.value(i, col)));
        }
        out.push_back(std::move(row));
    }
    co_return out;
}

} // namespace sfbridge::chaos
