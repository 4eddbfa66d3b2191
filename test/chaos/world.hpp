#pragma once

#include "bench/support/http_client.hpp"
#include "pg/connection.hpp"
#include "test/chaos/invariants.hpp"
#include "test/support/tcp_gate.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

// The campaign's world: sfsim and sfbridge as child processes, the test cluster of PostgreSQL
// behind a TCP gate (sfbridge reaches Postgres only through it), and the reads the invariants
// need. Waits never block the io_context: the gate lives on it.
namespace sfbridge::chaos {

// sfbridge's deadline for a Salesforce call in the campaign (SALESFORCE_REQUEST_TIMEOUT): shorter
// than the 2-minute default so that a late answer (answer_late, past it) holds the write-back
// for seconds rather than minutes of each seed.
inline constexpr int bridge_request_timeout_s = 20;

struct world_options {
    std::string sfsim_exe;
    std::string sfbridge_exe;
    std::string dsn;    // the test cluster (SFBRIDGE_TEST_PG_DSN)
    std::string pg_ctl; // the command that controls it (SFBRIDGE_TEST_PG_CTL)
    std::string workdir;
    std::string schema;
    std::string mappings_path;
    std::uint64_t seed = 0;
    std::vector<std::string> bridge_args; // more arguments and environment for sfbridge run
    std::vector<std::string> bridge_env;
};

// A child process, its output in a file.
class child_process {
public:
    child_process() = default;
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    ~child_process();
    void start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               const std::string& log_path);
    [[nodiscard]] bool running() const noexcept { return pid_ > 0; }
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    void adopt(pid_t pid) noexcept { pid_ = pid; } // started elsewhere, owned here
    // Exit code if it has exited by itself (and is reaped now), else -1.
    int poll_exit();
    // Signals it and waits (without blocking the io_context): the exit code, 128 + signal.
    boost::asio::awaitable<int> stop(int sig, std::chrono::seconds deadline);

private:
    pid_t pid_ = -1;
};

class world {
public:
    world(boost::asio::io_context& io, world_options o);
    ~world();

    // sfsim up (its port known), the schema free.
    void start_sfsim();
    // A sfsim control call that must succeed. Calls may run side by side (each takes a client
    // of its own from a pool); a transport failure is retried `attempts` times in all.
    boost::asio::awaitable<std::string> control(boost::beast::http::verb v, std::string target,
                                                std::string body = {}, int attempts = 1);

    void start_bridge();
    boost::asio::awaitable<int> stop_bridge(int sig);
    [[nodiscard]] bool bridge_running() const noexcept { return bridge_.running(); }
    [[nodiscard]] pid_t bridge_pid() const noexcept { return bridge_.pid(); }
    // Reaps sfbridge if it exited by itself: its exit code, else -1.
    int bridge_exited() { return bridge_.poll_exit(); }
    [[nodiscard]] std::string bridge_logs() const; // every run's log, concatenated
    [[nodiscard]] int bridge_runs() const noexcept { return runs_; }

    [[nodiscard]] test::tcp_gate& gate() noexcept { return *gate_; }
    // pg_ctl with these arguments; blocking (Postgres is down meanwhile anyway).
    bool pg_ctl(const std::string& args);
    // A session straight to Postgres (application_name chaos, spared by pg_terminate).
    boost::asio::awaitable<bool> connect(pg::connection& c);

    // sfsim's records of `spec.object`, deleted ones included.
    boost::asio::awaitable<std::vector<sim_record>> sim_records(const object_spec& spec);
    // The table's rows.
    boost::asio::awaitable<std::vector<table_row>> table_rows(pg::connection& c,
                                                              const object_spec& spec);

private:
    boost::asio::io_context& io_;
    world_options o_;
    child_process sfsim_;
    child_process bridge_;
    int runs_ = 0;
    std::uint16_t sim_port_ = 0;
    std::vector<std::unique_ptr<test::http_client>> idle_; // control clients not in use
    std::unique_ptr<test::http_client> api_;
    std::unique_ptr<test::tcp_gate> gate_;
};

} // namespace sfbridge::chaos
