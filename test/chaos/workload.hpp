#pragma once

#include "test/chaos/invariants.hpp"
#include "test/chaos/world.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

// The campaign's changes, from both sides at once: the app's INSERT, UPDATE and DELETE through
// SQL, and a Salesforce user's or the Bulk API's creates, updates, deletes and undeletes
// through sfsim, on the same records, with hostile values. Each side keeps what the invariants
// need to know of what it did.
namespace sfbridge::chaos {

// What the app did to one object, as far as it knows.
struct app_ledger {
    std::set<std::string> inserted;  // markers of committed INSERTs
    std::set<std::string> uncertain; // markers of INSERTs whose COMMIT answer was lost
    std::map<std::string, std::string> last_value; // marker -> last committed app-only value
    std::set<std::string> tainted; // markers of records deleted by either side at some point
    // The shared field: the app's last committed value and when (ms since the epoch), and when
    // Salesforce's side last wrote it (ms, taken before the call), by marker.
    std::map<std::string, shared_write> last_shared;
    std::map<std::string, long long> sf_shared_at;
};

struct counts {
    long app_inserts = 0, app_updates = 0, app_deletes = 0, app_failed = 0;
    long sf_creates = 0, sf_updates = 0, sf_deletes = 0, sf_undeletes = 0, sf_bulk = 0;
    long conflicts = 0;
};

class workload {
public:
    workload(world& w, std::vector<object_spec> specs, std::string schema, std::uint64_t seed);

    // A steady data set (the soak): once a table holds `rows`, each side deletes where it
    // would have created. 0 (the campaign) lets the tables grow.
    void cap_rows(std::size_t rows) noexcept { cap_ = rows; }

    // Both sides change records until `until`; returns when both have stopped.
    boost::asio::awaitable<void> run(std::chrono::steady_clock::time_point until);

    [[nodiscard]] const app_ledger& ledger(const std::string& object) const {
        return ledgers_.at(object);
    }
    [[nodiscard]] const counts& done() const noexcept { return counts_; }

private:
    boost::asio::awaitable<void> app_side(std::chrono::steady_clock::time_point until);
    boost::asio::awaitable<void> sf_side(std::chrono::steady_clock::time_point until);
    boost::asio::awaitable<void> app_step(pg::connection& c, const object_spec& s);
    boost::asio::awaitable<void> sf_step(pg::connection& c, const object_spec& s);
    boost::asio::awaitable<void> update_shared(pg::connection& c, const object_spec& s,
                                               const std::vector<std::string>& row);
    // A random row with an sfid: {id, sfid, marker}, or empty.
    boost::asio::awaitable<std::vector<std::string>> pick_row(pg::connection& c,
                                                              const object_spec& s, bool linked);
    std::string app_value(std::size_t max_chars);
    std::string sf_value(bool long_text);
    [[nodiscard]] std::string table(const object_spec& s) const;

    world& w_;
    std::vector<object_spec> specs_;
    std::string schema_;
    std::uint64_t seed_;
    std::mt19937_64 app_rng_, sf_rng_;
    std::map<std::string, app_ledger> ledgers_;
    std::map<std::string, std::vector<std::string>> deleted_; // by object: ids to undelete
    // Whether the table is at the cap (counted again every 50 asks).
    boost::asio::awaitable<bool> full(pg::connection& c, const object_spec& s);

    long next_marker_ = 0;
    counts counts_;
    std::size_t cap_ = 0;
    std::map<std::string, std::pair<long, long>> sizes_; // by object: rows, asks since counted
};

} // namespace sfbridge::chaos
