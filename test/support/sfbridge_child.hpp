#pragma once

// The sfbridge executable as a child process against the harness's in-process sfsim and the
// test database (the fault tests: SIGKILL, SIGTERM, a loop's death, replicas).
#include "test/support/bridge_harness.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SFBRIDGE_EXE
#error "SFBRIDGE_EXE: the sfbridge executable's path (test/CMakeLists.txt)"
#endif

namespace sfbridge::test {

// The sfbridge executable against the in-process sfsim.
struct child {
    pid_t pid = -1;
    child(harness& h, const std::string& mappings_path, const char* fail_loop = nullptr) {
        pid = fork();
        if (pid == 0) {
            if (fail_loop)
                setenv("SFBRIDGE_TEST_FAIL_LOOP", fail_loop, 1);
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
    // Signals the child and waits for it without blocking the io_context: the in-process
    // sfsim must go on answering (a blocking waitpid starved it, and the child's shutdown
    // then waited on its /meta/disconnect). Returns the exit code, or 128 + the signal.
    asio::awaitable<int> kill_and_wait(int sig) {
        ::kill(pid, sig);
        int status = 0;
        while (waitpid(pid, &status, WNOHANG) == 0)
            co_await sleep_ms(10);
        co_return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    // Waits for the child to exit by itself (-1 if it has not within `deadline`).
    asio::awaitable<int> wait_exit(std::chrono::seconds deadline) {
        int status = 0;
        const auto until = std::chrono::steady_clock::now() + deadline;
        for (;;) {
            const pid_t r = waitpid(pid, &status, WNOHANG);
            if (r == pid)
                break;
            if (r < 0)
                FAIL("waitpid: " << std::strerror(errno));
            if (std::chrono::steady_clock::now() > until)
                co_return -1;
            co_await sleep_ms(20);
        }
        co_return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    [[nodiscard]] std::string log() const {
        std::ifstream in("/tmp/sfbridge-fault-" + std::to_string(pid) + ".log");
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
};

inline std::string write_mappings(const std::string& json) {
    const std::string path = "/tmp/sfbridge-fault-mappings-" + std::to_string(getpid()) + ".json";
    std::ofstream(path) << json;
    return path;
}

} // namespace sfbridge::test
