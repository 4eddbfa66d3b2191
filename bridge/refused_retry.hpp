#pragma once

#include "bridge/mapping_runtime.hpp"
#include "bridge/sync_context.hpp"
#include "bridge/table_writer.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <vector>

// Records Postgres refused (an app's trigger that raised, a constraint it added) are recorded
// in _sfbridge_errors with `retry` set, and the poll has moved past them. Once the app lets
// them in, nothing would bring them back until Salesforce changed them again; so each poller
// fetches them again now and then, applies them, and marks their errors resolved.
namespace sfbridge::bridge {

// At most this many records per attempt (an Id list of 200 keeps the query's URL short).
inline constexpr std::size_t refused_per_retry = 200;

// The SOQL of one attempt: the mapped fields of these records, with IsDeleted when the object
// has it (queried with queryAll, so that a refused delete is retried as a delete); only those
// matching `filter`, the mapping's row filter as SOQL, when there is one.
[[nodiscard]] std::string refused_query(const std::string& object,
                                        const std::vector<std::string>& fields,
                                        const std::vector<std::string>& ids, bool with_isdeleted,
                                        const std::string& filter = {});

// When the next attempt is due: `base` after an attempt that left nothing refused, twice the
// last wait (up to `most`) while records are still refused.
class refused_schedule {
public:
    refused_schedule(std::chrono::milliseconds base, std::chrono::milliseconds most)
        : base_(base), most_(most), wait_(base) {}
    [[nodiscard]] bool due(std::chrono::steady_clock::time_point now) const noexcept {
        return now >= next_;
    }
    void done(std::chrono::steady_clock::time_point now, bool still_refused) noexcept {
        wait_ = still_refused ? std::min(most_, wait_ * 2) : base_;
        next_ = now + (still_refused ? wait_ : base_);
    }
    [[nodiscard]] std::chrono::milliseconds wait() const noexcept { return wait_; }

private:
    std::chrono::milliseconds base_, most_, wait_;
    std::chrono::steady_clock::time_point next_{};
};

// One attempt on the poller's writer. True while some records are still refused; an error
// (Salesforce or Postgres away) counts as still refused and is retried on the schedule.
boost::asio::awaitable<bool> retry_refused(const sync_context& ctx, table_writer& w,
                                           mapping_runtime& m);

// Records the write-back adopted (_sfbridge_reread, queued by trigger_log::record): read again
// and applied as a poll's records are (a record found deleted since deletes its row, one
// undeleted since gets its row back), then forgotten; a record Postgres refuses goes to the
// refusals above. Every queued record in chunks; an error leaves the rest queued, for the
// next poll.
boost::asio::awaitable<boost::system::error_code>
reread_adopted(const sync_context& ctx, table_writer& w, mapping_runtime& m);

} // namespace sfbridge::bridge
