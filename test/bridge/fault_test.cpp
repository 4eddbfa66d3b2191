// The inbound engine under faults that need the process or the server to die: they run alone
// (RUN_SERIAL), since they kill processes and restart the shared PostgreSQL.
#include "test/support/bridge_harness.hpp"

#include <csignal>
#include <random>
#include <sys/wait.h>
#include <unistd.h>

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {
// The sfbridge executable against the in-process sfsim.
struct child {
    pid_t pid = -1;
    child(harness& h, const std::string& mappings_path) {
        pid = fork();
        if (pid == 0) {
            FILE* f = std::freopen(
                ("/tmp/sfbridge-fault-" + std::to_string(getpid()) + ".log").c_str(), "w", stderr);
            (void)f;
            setenv("DATABASE_URL", pg_dsn().c_str(), 1);
            setenv("SALESFORCE_LOGIN_URL", h.f.sim->base_url().c_str(), 1);
            setenv("SALESFORCE_CLIENT_ID", h.f.cfg.auth.client_id.c_str(), 1);
            setenv("SALESFORCE_CLIENT_SECRET", h.f.cfg.auth.client_secret.c_str(), 1);
            setenv("SALESFORCE_USERNAME", h.f.cfg.auth.username.c_str(), 1);
            setenv("SALESFORCE_PASSWORD", h.f.cfg.auth.password.c_str(), 1);
            execl(SFBRIDGE_EXE, SFBRIDGE_EXE, "run", "--mappings", mappings_path.c_str(),
                  "--schema", h.schema.c_str(), "--poll-interval-ms", "600000",
                  static_cast<char*>(nullptr));
            _exit(127);
        }
    }
    int kill_and_wait(int sig) {
        ::kill(pid, sig);
        int status = 0;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
};

std::string write_mappings(const std::string& json) {
    const std::string path = "/tmp/sfbridge-fault-mappings-" + std::to_string(getpid()) + ".json";
    std::ofstream(path) << json;
    return path;
}
} // namespace

TEST_CASE("SIGKILL at random points during 50000 changes loses and duplicates nothing",
          "[bridge][fault]") {
    harness h;
    const std::string mappings = write_mappings(mapping_json("Contact", "Id,LastName,Email", true));
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            co_await h.send(
                http::verb::post, "/__sim/generate",
                R"({"object":"Contact","kind":"create","count":5000,"rate":0,"bulk":true})");
            co_await sleep_ms(300);
            co_await h.send(http::verb::post, "/__sim/generate",
                            R"({"object":"Contact","kind":"mixed","count":50000,"rate":4000})");
            std::mt19937 rng(std::random_device{}());
            for (int round = 0; round < 4; ++round) {
                child b(h, mappings);
                co_await sleep_ms(700 + static_cast<long>(rng() % 2000));
                const int rc = b.kill_and_wait(SIGKILL);
                CHECK(rc == 128 + SIGKILL);
            }
            child last(h, mappings);
            bool ok = co_await converged(h, c, "Contact", "LastName", 90);
            CHECK(ok);
            // No row twice: sfid is unique, and the counts agree with sfsim.
            auto dup = co_await must_query(c, "SELECT count(*) - count(DISTINCT sfid) FROM " +
                                                  h.schema + ".contact");
            CHECK(dup.value(0, 0) == "0");
            CHECK(last.kill_and_wait(SIGTERM) == 0);
        }(),
        std::chrono::seconds(300));
}

TEST_CASE("Postgres restarted mid-stream: the engine reconnects and converges", "[bridge][fault]") {
    const char* ctl = std::getenv("SFBRIDGE_TEST_PG_CTL");
    if (!ctl || !*ctl)
        FAIL("SFBRIDGE_TEST_PG_CTL is not set: run the suite through ./scripts/test");
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            cfg.poll_interval = std::chrono::seconds(600);
            co_await h.start(cfg);
            co_await h.send(http::verb::post, "/__sim/generate",
                            R"({"object":"Contact","kind":"mixed","count":6000,"rate":2000})");
            co_await sleep_ms(1000);
            const std::string restart = std::string(ctl) + " restart -m fast -w >/dev/null 2>&1";
            REQUIRE(std::system(restart.c_str()) == 0);
            pg::connection c2(h.f.io.get_executor());
            co_await must_connect(c2);
            bool ok = co_await converged(h, c2, "Contact", "LastName", 60);
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}
