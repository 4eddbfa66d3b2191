#pragma once

#include "bridge/mapping_runtime.hpp"
#include "bridge/refused_retry.hpp"
#include "bridge/sync_context.hpp"
#include "bridge/table_writer.hpp"
#include "bridge/writer_pool.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

// One mapping's SystemModstamp polling: every sf_polling_seconds (or at once when asked), the
// records changed since the high-water mark less an overlap, and (queryAll) the records
// deleted since the delete high-water mark; each batch commits with the mark it reaches. What
// streaming misses (events lost, a notify fetch that failed, a CDC overflow) arrives this way.
// Once an hour after a poll, tombstones, and the mapping's archived trigger-log rows, conflicts
// and errors past their retention are pruned; records Postgres
// refused are fetched again on their own schedule (refused_retry.hpp).
namespace sfbridge::bridge {

class poller {
public:
    // `caught_up` runs after the first successful poll (the hand-over from the load or the
    // downtime is covered).
    poller(const sync_context& ctx, mapping_runtime& m, std::function<void()> caught_up);
    poller(const poller&) = delete;
    poller& operator=(const poller&) = delete;

    // Polls until the stop, on a session of its own; failures are retried with backoff.
    boost::asio::awaitable<void> run();

private:
    boost::asio::awaitable<boost::system::error_code> poll();
    boost::asio::awaitable<boost::system::error_code> read_marks();
    boost::asio::awaitable<boost::system::error_code> poll_changes(std::int64_t to);
    boost::asio::awaitable<boost::system::error_code> poll_deletes(std::int64_t to);
    boost::asio::awaitable<boost::system::error_code>
    window_ids(std::int64_t from, std::int64_t to, std::vector<salesforce::flat_record>& out);
    boost::asio::awaitable<boost::system::error_code>
    remove_leavers(const std::vector<salesforce::flat_record>& changed,
                   const std::unordered_set<std::string>& matched, change_batch& batch);
    // Queries Id and SystemModstamp of records (queryAll when `all`), each added to `batch` by
    // `add`, the batch applied whenever it holds --max-batch entries.
    boost::asio::awaitable<boost::system::error_code>
    query_stamps(const std::string& soql, bool all, change_batch& batch, std::size_t& count,
                 bool (change_batch::*add)(const salesforce::flat_record&));
    boost::asio::awaitable<boost::system::error_code> apply(const change_batch& batch,
                                                            const position_update& pos);
    boost::asio::awaitable<void> housekeeping();
    // After a query refused with INVALID_FIELD: the describe again, and if a mapped field is
    // gone or changed, ctx.schema_changed.
    boost::asio::awaitable<void> check_schema();
    boost::asio::awaitable<bool> prune(const std::string& what, const std::string& sql,
                                       const pg::params& p, std::size_t& rows);

    const sync_context& ctx_;
    mapping_runtime& m_;
    table_writer& w() { return *lease_; }
    writer_pool::lease lease_; // while a poll runs
    std::function<void()> caught_up_;
    refused_schedule refused_;
    bool invalid_field_ = false; // the last poll's query was refused with INVALID_FIELD
};

} // namespace sfbridge::bridge
