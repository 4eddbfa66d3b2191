#pragma once

#include "bridge/change_batch.hpp"
#include "bridge/load_batch.hpp"
#include "pg/connection.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>

// Writes change batches into Postgres, one transaction per batch: COPY into the mapping's
// staging table, the merge (bridge/merge_sql), and the mapping's row of _sfbridge_state with
// the stream position and poll high-water marks the batch covers. So after a crash the table
// and the position agree: nothing committed is lost, nothing is applied twice. The session runs
// with xmlbinary = hex, so Heroku Connect style triggers do not log these writes for sending
// back to Salesforce.
namespace sfbridge::bridge {

struct position_update {
    std::optional<std::int64_t> replay_id; // the stream position the batch reaches
    std::string poll_high_water;           // Postgres timestamp text, or empty
    std::string deleted_high_water;
    bool event = false; // the batch came from the stream: stamp last_event_at
    // The mapping's leadership epoch this replica holds (bridge/leadership_sql): the write's
    // transaction passes the fence with it first. 0 where no replica ever led the mapping.
    std::int64_t epoch = 0;
};

// One mapping's positions as committed in _sfbridge_state.
struct stored_position {
    std::optional<std::int64_t> replay_id;
    std::int64_t poll_high_water_ms = 0;
    std::int64_t deleted_high_water_ms = 0;
};

class table_writer {
public:
    table_writer(boost::asio::any_io_executor ex, std::string schema);

    boost::asio::awaitable<boost::system::error_code> open(const std::string& dsn,
                                                           pg::diagnostics& diag);
    [[nodiscard]] bool is_open() const noexcept { return conn_.is_open(); }
    // Set by every open: the positions the owner holds in memory (replay ids, high-water
    // marks) are not known to match _sfbridge_state. After a server crash they may be ahead of
    // it, since sessions commit with synchronous_commit = off. apply_with_retry writes nothing
    // while it is set (write_errc::positions_unsure); the owner reads its positions back from
    // the database (or starts over, as a load does) and then clears it.
    [[nodiscard]] bool positions_unsure() const noexcept { return positions_unsure_; }
    void positions_confirmed() noexcept { positions_unsure_ = false; }
    // Commits with synchronous_commit on (from the next open): a writer several mappings share
    // (writer_pool), whose lost commits no single owner could tell. Never positions_unsure.
    void set_durable(bool on) noexcept { durable_ = on; }

    // Applies the batch (which may be empty: then only the position moves).
    boost::asio::awaitable<boost::system::error_code>
    apply(const change_batch& batch, const position_update& pos, pg::diagnostics& diag);

    // Several mappings' small batches (each at most small_batch rows) in one transaction and
    // one round trip, each behind its own fence, in the order given: all commit or none does.
    // The stream's flush with many mappings, each with a few changes, would otherwise pay a
    // round trip and a commit per mapping. No lock is waited for longer than group_lock_wait,
    // and nothing is retried or isolated here: on an error the caller applies them one by one.
    struct group_item {
        const change_batch* batch;
        position_update pos;
    };
    boost::asio::awaitable<boost::system::error_code>
    apply_group(const std::vector<group_item>& items, pg::diagnostics& diag);

    // The initial load of an empty table: the batch's rows COPied straight into it, past the
    // fence with the mapping's `epoch` (position_update::epoch).
    boost::asio::awaitable<boost::system::error_code>
    load(const load_batch& batch, std::int64_t epoch, pg::diagnostics& diag);
    // Whether a load may switch the triggers off with session_replication_role: only when the
    // table has no trigger but Heroku Connect's two (replica mode would skip any other) and
    // the role may set it. Should setting it still fail, the load falls back by itself.
    void allow_replica_load(bool allowed) noexcept { replica_load_allowed_ = allowed; }

    // Any statement on the writer's session (state changes around a load).
    boost::asio::awaitable<boost::system::error_code> exec(std::string_view sql,
                                                           pg::diagnostics& diag);
    boost::asio::awaitable<boost::system::error_code>
    query(std::string_view sql, const pg::params& p, pg::result& out, pg::diagnostics& diag);

    // Every mapping's committed positions, by object name, read on this session (which must
    // be open). The caller takes what it owns and then calls positions_confirmed().
    boost::asio::awaitable<boost::system::error_code>
    read_positions(std::map<std::string, stored_position>& out, pg::diagnostics& diag);

    [[nodiscard]] pg::connection& connection() noexcept { return conn_; }
    [[nodiscard]] const std::string& schema() const noexcept { return schema_; }

    // Batches of at most this many rows go in one pipelined round trip instead of COPY.
    static constexpr std::size_t small_batch = 64;
    // Batches of at most this many rows use prepared statements: their text repeats (the
    // stream at low load sends one row at a time), and parsing and planning the merge was
    // over half of a one-row transaction. Each size is a statement of its own, so larger
    // batches, where that cost is shared by many rows, are sent unnamed.
    static constexpr std::size_t prepared_batch = 4;
    // The statements a mapping's small batches prepare: a merge for each size up to
    // prepared_batch, or the staging insert for each size and the merge's five statements (a
    // mapping with an upsert field). A session's statement cache is sized by it.
    static constexpr std::size_t statements_per_mapping = prepared_batch + 5;
    // How long apply_group waits for any one lock before it fails (55P03).
    static constexpr std::chrono::milliseconds group_lock_wait{200};

private:
    enum class load_mode { replica, alter, triggers };
    // BEGIN, with the capture triggers off the best way allowed (`mode` says which).
    boost::asio::awaitable<boost::system::error_code>
    begin_load(const mappings::resolved_mapping& m, std::int64_t epoch, load_mode& mode,
               pg::diagnostics& diag);
    boost::asio::awaitable<boost::system::error_code>
    begin_fenced(const std::string& object, std::int64_t epoch, pg::diagnostics& diag);
    boost::asio::awaitable<boost::system::error_code>
    apply_small(const change_batch& batch, const position_update& pos, pg::diagnostics& diag);
    // apply_small's statements, added to `p` (no sync).
    void add_small(pg::pipeline& p, const change_batch& batch, const position_update& pos);
    // The staging table of an upsert-field mapping, created once per session.
    boost::asio::awaitable<boost::system::error_code> ensure_stage(const change_batch& batch,
                                                                   pg::diagnostics& diag);

    pg::connection conn_;
    std::string schema_;
    std::set<std::string> staged_; // staging tables created on this session
    std::string copy_buf_;
    // How a load switches the capture triggers off, best first; a way refused once is not
    // tried again on this session: session_replication_role for any table (the role's right),
    // ALTER TABLE for that table (its owner's). A pooled session loads many mappings.
    bool replica_refused_ = false;
    std::set<std::string> alter_refused_;
    bool replica_load_allowed_ = false;
    bool positions_unsure_ = false;
    bool durable_ = false;
};

} // namespace sfbridge::bridge
