#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// The chaos campaign's fault schedule: which faults strike when, drawn from a seed alone, so
// that `./scripts/chaos --seed N` replays the same schedule. Pure (no I/O); the driver
// (chaos.cpp) carries each fault out.
namespace sfbridge::chaos {

enum class fault_kind {
    // sfsim's
    expire_tokens,    // every access token stops working
    forget_clients,   // every CometD session is forgotten
    lose_retention,   // every retained event is dropped
    drop_connections, // every open connection to sfsim is closed
    fail_share,       // a share of requests fails with 503 for a while
    lock_share,       // a share of record writes fails with UNABLE_TO_LOCK_ROW for a while
    stall,            // every request waits until the stall is lifted
    answer_dropped,   // a write is applied, then its connection closed before the answer
    answer_500,       // a write is applied, then answered 500
    answer_502,       // a write is applied, then answered 502 by a "proxy"
    answer_late,      // a write is applied, then answered after the client's deadline
    api_budget,       // the daily API limit is spent for a while
    clock_skew,       // Salesforce's clock runs ahead of or behind sfbridge's
    // Postgres's
    pg_terminate,     // pg_terminate_backend of every sfbridge session
    pg_restart_fast,  // pg_ctl restart -m fast
    pg_restart_crash, // pg_ctl restart -m immediate (a crash: recovery from the WAL)
    pg_cut,           // the network between sfbridge and Postgres passes nothing for a while
    pg_reset,         // every connection between sfbridge and Postgres is reset
    pg_timeout,       // statement_timeout lowered to a few milliseconds for a while
    app_trigger,      // a trigger of the app's raises for some rows of one table for a while
    // the process's
    sigkill, // sfbridge killed, started again after a while
    sigterm, // sfbridge stopped (graceful), started again after a while
};
inline constexpr int fault_kinds = static_cast<int>(fault_kind::sigterm) + 1;

[[nodiscard]] std::string_view name(fault_kind k) noexcept;

struct fault {
    fault_kind kind{};
    long at_ms = 0;       // from the campaign's start
    long duration_ms = 0; // how long it lasts (0: instantaneous)
    long value = 0;       // the kind's parameter: a share in percent, a clock offset in ms, a
                          // count of answers, a delay in ms
    std::string object;   // the object an answer fault is limited to ("" = every object), or
                          // whose table the app's trigger is on
};

struct plan_options {
    long run_ms = 60000;              // how long changes and faults go on
    int faults = 12;                  // how many faults strike in that time
    std::vector<std::string> objects; // for faults limited to one object
};

// Sorted by at_ms; each fault ends before run_ms. Several may overlap.
[[nodiscard]] std::vector<fault> make_plan(std::uint64_t seed, const plan_options& o);

// One line per fault, for the report: "  12.3 s  pg_cut for 4.0 s".
[[nodiscard]] std::string describe(const fault& f);

} // namespace sfbridge::chaos
