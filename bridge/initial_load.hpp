#pragma once

#include "bridge/load_batch.hpp"
#include "bridge/mapping_runtime.hpp"
#include "bridge/sync_context.hpp"
#include "bridge/table_writer.hpp"
#include "bridge/writer_pool.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// One mapping's initial load (or reload): every record, by REST query or Bulk API 2.0 above the
// threshold, into its table. An empty table takes COPY text built straight from the records on
// one or two connections side by side; a table with rows (a reload, new columns, an earlier
// attempt) takes merges by the SystemModstamp rule, and afterwards loses the rows whose record
// the load did not see. Fetching and parsing overlap with the writes: one batch fills from the
// next page while the others are written.
namespace sfbridge::bridge {

class initial_load {
public:
    initial_load(const sync_context& ctx, mapping_runtime& m, table_writer& w);
    initial_load(const initial_load&) = delete;
    initial_load& operator=(const initial_load&) = delete;
    ~initial_load();

    // Loads; on success the mapping is marked loaded with its high-water marks at the load's
    // start (less the poll overlap). Any error leaves the mapping to be loaded again.
    boost::asio::awaitable<boost::system::error_code> run();
    [[nodiscard]] std::size_t rows_loaded() const noexcept { return loaded_; }
    // Why the attempt failed: Salesforce's words, or the error's.
    [[nodiscard]] std::string error_text(const boost::system::error_code& ec) const {
        return sd_.summary().empty() ? ec.message() : sd_.summary();
    }

private:
    struct buffers {
        explicit buffers(const mappings::resolved_mapping& mm) : copy(mm), merge(mm) {}
        load_batch copy;
        change_batch merge;
    };
    struct slot {
        table_writer* writer;
        std::unique_ptr<buffers> batch;
        bool busy = false;
    };

    boost::asio::awaitable<boost::system::error_code> begin();
    boost::asio::awaitable<boost::system::error_code> open_writers();
    boost::asio::awaitable<boost::system::error_code> fetch();
    boost::asio::awaitable<boost::system::error_code> fetch_bulk(const std::string& soql);
    boost::asio::awaitable<boost::system::error_code> fetch_rest(const std::string& soql);
    // After each row: keep its error for later, or hand a full batch to a writer.
    boost::asio::awaitable<boost::system::error_code> taken(row_outcome outcome);
    boost::asio::awaitable<boost::system::error_code> hand_over();
    boost::asio::awaitable<void> write(slot& sl);
    boost::asio::awaitable<boost::system::error_code> write_merge(table_writer& w, buffers& b);
    // Waits until at most `most_busy` writers are busy; the first write error, if any.
    boost::asio::awaitable<boost::system::error_code> wait_writers(long most_busy);
    boost::asio::awaitable<boost::system::error_code> remove_unseen();
    // One statement of the load's bookkeeping (its state row, the seen set) in a transaction
    // of its own past the leadership fence (bridge/leadership_sql), shared: a former leader's
    // clearing of the seen set cannot land in the next leader's reload.
    boost::asio::awaitable<boost::system::error_code>
    fenced_query(table_writer& w, const std::string& sql, const pg::params& p, pg::result& r,
                 pg::diagnostics& pd);
    boost::asio::awaitable<boost::system::error_code> finish();
    [[nodiscard]] std::size_t size(const buffers& b) const {
        return fresh_ ? b.copy.size() : b.merge.size();
    }

    const sync_context& ctx_;
    mapping_runtime& m_;
    table_writer& w_;
    std::int64_t started_ms_ = 0; // the load's start, less the poll overlap
    std::chrono::steady_clock::time_point t0_;
    std::optional<std::chrono::steady_clock::time_point> first_rows_;
    bool bulk_ = false;
    bool fresh_ = false; // an empty table: COPY, not merges
    std::size_t loaded_ = 0;
    writer_pool::lease second_; // the load's second connection, from the replica's pool
    std::vector<slot> slots_;
    std::unique_ptr<buffers> filling_;
    boost::system::error_code write_ec_;
    boost::asio::steady_timer write_done_;
    // Records refused or altered, recorded after the load (the writers are busy until then).
    std::vector<row_issue> row_issues_;
    row_issue row_issue_;
    std::size_t since_yield_ = 0;
    salesforce::diagnostics sd_;
};

} // namespace sfbridge::bridge
