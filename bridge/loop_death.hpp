#pragma once

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

// What happens when a loop of the engine ends by an exception. Every expected failure (network,
// Postgres, Salesforce, bad data) comes back as a value and is retried or recorded where it
// happened, so an exception is a programming error: the engine's state is no longer trusted,
// the process records which loop died (for `sfbridge status`) and exits non-zero for its
// supervisor to restart it. The next start resumes from what Postgres holds.
namespace sfbridge::bridge {

// The exception that leaves io_context::run() when a named loop of the engine ended by one.
class loop_failed : public std::runtime_error {
public:
    loop_failed(std::string loop, const std::string& error)
        : std::runtime_error(error), loop_(std::move(loop)) {}
    [[nodiscard]] const std::string& loop() const noexcept { return loop_; }

private:
    std::string loop_;
};

// The loop's name and message of what `e` holds ("sfbridge" for an exception from no named
// loop).
struct loop_death {
    std::string loop;
    std::string error;
};
[[nodiscard]] loop_death describe_death(std::exception_ptr e);

// Whether a loop of the engine runs until the stop ("stream", "writeback", "control", "poll X"),
// so that its end before the stop is a death (/healthz answers 503), unlike a load's.
[[nodiscard]] bool runs_until_stop(std::string_view loop_name) noexcept;

// Writes the death into the schema's _sfbridge_loops on a connection and io_context of its own
// (the engine's are in an unknown state), within `deadline` for the connect and again for the
// insert. False (with a warning logged) when Postgres could not be reached: the log line that
// named the loop is then the only record. Never throws: it runs in the last catch.
bool record_loop_death(const std::string& database_url, const std::string& schema,
                       const loop_death& death,
                       std::chrono::milliseconds deadline = std::chrono::seconds(10)) noexcept;

} // namespace sfbridge::bridge
