#pragma once

#include "bridge/leader_plan.hpp"
#include "pg/connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

// One replica's side of leadership (issue 19): the dedicated lock session that holds the
// advisory locks of the mappings this replica leads, its heartbeat in _sfbridge_replicas, and
// the taking and giving up of mappings (bridge/leadership_sql says how a lock becomes an epoch
// and why a stale leader's writes fail). bridge/leader_plan decides which mappings to try; the
// engine starts and stops their sync (engine.cpp, generations).
//
// Detecting a lost session, and the worst case:
//  - this replica: every round (each `round_interval`) runs its statements with a deadline of
//    `statement_deadline`; one that fails or passes it ends the session and every lead at
//    once, so a replica cut off from Postgres stops its mappings within interval + deadline;
//  - Postgres: the lock session asks for TCP keepalives (idle 5 s, then 3 probes 2 s apart)
//    and a TCP user timeout of 10 s, so the server ends a session whose replica vanished (a
//    cut cable, a frozen host) within about 11 s and frees its locks. A SIGKILLed process or a
//    terminated backend frees them at once.
// So the locks of a replica cut off outlive its own stop; and whatever it still had in flight
// fails the epoch fence once the next leader has taken the mapping.
namespace sfbridge::bridge {

struct leadership_round {
    std::vector<std::string> taken;   // mappings taken in this round
    std::vector<std::string> surplus; // over this replica's share: to hand over
    std::vector<replica_view> others; // the other live replicas
    std::size_t share = 0;
};

class leadership {
public:
    static constexpr std::chrono::milliseconds round_interval{2000};
    static constexpr std::chrono::milliseconds statement_deadline{3000};

    leadership(boost::asio::any_io_executor ex, std::string schema, std::string replica);

    [[nodiscard]] const std::string& replica() const noexcept { return replica_; }
    [[nodiscard]] bool is_open() const noexcept { return conn_.is_open(); }

    boost::asio::awaitable<boost::system::error_code> connect(const std::string& dsn,
                                                              pg::diagnostics& diag);
    // Heartbeat, the live replicas, the plan; takes the unclaimed mappings the plan names, up
    // to the share. A failure means the session is lost: close() it.
    boost::asio::awaitable<boost::system::error_code>
    round(const std::vector<std::string>& mappings, leadership_round& out, pg::diagnostics& diag);
    // Gives these up (their sync already stopped and committed).
    boost::asio::awaitable<boost::system::error_code>
    release(const std::vector<std::string>& objects, pg::diagnostics& diag);
    // Ends the session: every lock goes with it.
    void close() noexcept;

    // The mappings led now, with the epoch each was taken at.
    [[nodiscard]] const std::map<std::string, std::int64_t>& leads() const noexcept {
        return leads_;
    }
    [[nodiscard]] std::vector<std::string> led() const;

private:
    boost::asio::awaitable<boost::system::error_code> take(const std::string& object, bool& taken,
                                                           pg::diagnostics& diag);
    boost::asio::awaitable<void> end_holders(const std::string& object);

    pg::connection conn_;
    std::string schema_;
    std::string replica_;
    std::map<std::string, std::int64_t> leads_;
    std::map<std::string, bool> held_; // locks held whose epoch is not incremented yet
    std::chrono::steady_clock::time_point last_prune_{};
    std::map<std::string, int> unclaimed_; // rounds in a row each was unclaimed (leader_plan)
};

// This process's replica id: `name` (a pod's name, say; at most 36 characters) or the host name
// and pid, with a random suffix either way (a restarted process is a new replica, whatever its
// name), short enough for Postgres's 63-byte application names.
[[nodiscard]] std::string make_replica_id(const std::string& name);

} // namespace sfbridge::bridge
