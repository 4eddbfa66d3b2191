#include "bridge/table_writer.hpp"

#include "bridge/leadership_sql.hpp"
#include "bridge/merge_sql.hpp"
#include "bridge/state_sql.hpp"
#include "core/log.hpp"
#include "mappings/ddl.hpp"
#include "mappings/types.hpp"

#include <stdexcept>
#include <tuple>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;
using mappings::quote_identifier;

namespace {
// The table and its two Heroku Connect triggers, quoted.
std::tuple<std::string, std::string, std::string> load_names(const std::string& schema,
                                                             const mappings::resolved_mapping& m) {
    return {quote_identifier(schema) + "." + quote_identifier(m.table),
            quote_identifier(mappings::ddl::status_trigger_name(m.table)),
            quote_identifier(mappings::ddl::log_trigger_name(m.table))};
}
} // namespace

table_writer::table_writer(asio::any_io_executor ex, std::string schema)
    : conn_(std::move(ex)), schema_(std::move(schema)) {}

asio::awaitable<error_code> table_writer::open(const std::string& dsn, pg::diagnostics& diag) {
    staged_.clear();
    auto ec = co_await conn_.async_connect(dsn, diag);
    if (ec)
        co_return ec;
    positions_unsure_ = !durable_;
    // hex marks this session as sfbridge's for the capture triggers (heroku-connect.md 1.7).
    // synchronous_commit off: a crash may lose the last few transactions, but each carries its
    // own stream position, so the position is lost with them and the events are fetched again:
    // nothing is lost, and a commit does not wait for the disk.
    // lock_timeout under the 30 s statement deadline: a merge waiting on the mapping's lock
    // (held by the write-back while Salesforce answers its creates) gets 55P03 and is retried
    // with backoff on the same session, instead of the deadline tearing the session down.
    const std::string commit = durable_ ? "on" : "off";
    co_return co_await conn_.async_exec("SET xmlbinary = hex; SET application_name = 'sfbridge'; "
                                        "SET synchronous_commit = " +
                                            commit + "; SET lock_timeout = '20s'",
                                        diag);
}

asio::awaitable<error_code> table_writer::exec(std::string_view sql, pg::diagnostics& diag) {
    co_return co_await conn_.async_exec(sql, diag);
}

asio::awaitable<error_code> table_writer::query(std::string_view sql, const pg::params& p,
                                                pg::result& out, pg::diagnostics& diag) {
    co_return co_await conn_.async_query(sql, p, out, diag);
}

asio::awaitable<error_code>
table_writer::read_positions(std::map<std::string, stored_position>& out, pg::diagnostics& diag) {
    pg::result r;
    auto ec = co_await conn_.async_query(state_sql::positions(schema_), pg::params(), r, diag);
    if (ec)
        co_return ec;
    auto ms = [&](int row, int col) -> std::int64_t {
        return r.is_null(row, col) ? 0 : std::stoll(std::string(r.value(row, col)));
    };
    out.clear();
    for (int i = 0; i < r.rows(); ++i) {
        stored_position p;
        if (!r.is_null(i, 1))
            p.replay_id = ms(i, 1);
        p.poll_high_water_ms = ms(i, 2);
        p.deleted_high_water_ms = ms(i, 3);
        out.emplace(std::string(r.value(i, 0)), p);
    }
    co_return error_code{};
}

// The Heroku Connect triggers cost as much as the COPY itself, and for sfbridge's session they
// only set _hc_lastop = 'SYNCED' (the logger's WHEN clause is false), which the COPY data
// carries anyway. So they are switched off for the batch's transaction, the first way that is
// allowed:
//  - replica: `SET LOCAL session_replication_role = replica` turns ordinary triggers off for
//    this session only, without a lock, so loads on several connections run side by side. Only
//    when the table has no trigger but those two (a user's own trigger must still run) and the
//    role may set it.
//  - alter: ALTER TABLE ... DISABLE TRIGGER for those two, undone before COMMIT: other sessions
//    never see the table without them (ALTER TABLE locks it until COMMIT, which an empty table
//    being loaded can afford, but which serialises parallel loads).
//  - otherwise through the triggers.
// The fence first (shared: the two load sessions run side by side), before any table lock: a
// writer takes the mapping's lock before the table's rows, so the other order could deadlock.
asio::awaitable<error_code> table_writer::begin_fenced(const std::string& object,
                                                       std::int64_t epoch, pg::diagnostics& diag) {
    auto ec = co_await conn_.async_exec("BEGIN", diag);
    pg::result r;
    if (!ec)
        ec = co_await conn_.async_query(leadership_sql::shared_fence(schema_),
                                        pg::params(object, static_cast<long long>(epoch)), r, diag);
    co_return ec;
}

asio::awaitable<error_code> table_writer::begin_load(const mappings::resolved_mapping& m,
                                                     std::int64_t epoch, load_mode& mode,
                                                     pg::diagnostics& diag) {
    const auto [table, status, logger] = load_names(schema_, m);
    mode = load_mode::triggers;
    for (load_mode want : {load_mode::replica, load_mode::alter}) {
        if (want == load_mode::replica ? replica_refused_ || !replica_load_allowed_
                                       : alter_refused_.count(table) > 0)
            continue;
        const std::string begin = want == load_mode::replica
                                      ? "SET LOCAL session_replication_role = replica"
                                      : "ALTER TABLE " + table + " DISABLE TRIGGER " + status +
                                            ", DISABLE TRIGGER " + logger;
        auto ec = co_await begin_fenced(m.object_name, epoch, diag);
        if (ec) {
            if (conn_.is_open()) {
                pg::diagnostics ignore;
                (void)co_await conn_.async_exec("ROLLBACK", ignore);
            }
            co_return ec;
        }
        ec = co_await conn_.async_exec(begin, diag);
        if (!ec) {
            mode = want;
            co_return ec;
        }
        pg::diagnostics ignore;
        (void)co_await conn_.async_exec("ROLLBACK", ignore);
        if (!conn_.is_open() || conn_.is_broken())
            co_return ec;
        const char* what =
            want == load_mode::replica
                ? "loading without session_replication_role (not allowed to this role)"
                : "loading with the triggers on (the table is not sfbridge's to alter)";
        log::info("sync", what, {{"table", m.table}, {"detail", diag.summary()}});
        // Remembered only when refused for the role's rights (a lock timeout may pass).
        if (diag.sqlstate == "42501" && want == load_mode::replica)
            replica_refused_ = true;
        else if (diag.sqlstate == "42501")
            alter_refused_.insert(table);
        diag = pg::diagnostics{};
    }
    co_return co_await begin_fenced(m.object_name, epoch, diag);
}

asio::awaitable<error_code> table_writer::load(const load_batch& batch, std::int64_t epoch,
                                               pg::diagnostics& diag) {
    const std::string_view text = batch.copy_text();
    const auto& m = batch.mapping();
    load_mode mode = load_mode::triggers;
    auto ec = co_await begin_load(m, epoch, mode, diag);
    if (ec)
        co_return ec;
    ec = co_await conn_.async_copy_start(merge_sql::copy_into_table(schema_, m), diag);
    constexpr std::size_t chunk = 256 * 1024;
    for (std::size_t off = 0; !ec && off < text.size(); off += chunk)
        ec = co_await conn_.async_copy_write(text.substr(off, chunk), diag);
    std::uint64_t rows = 0;
    if (!ec)
        ec = co_await conn_.async_copy_end(rows, diag);
    else if (conn_.in_copy()) {
        pg::diagnostics ignore;
        (void)co_await conn_.async_copy_abort("sfbridge: load failed", ignore);
    }
    const auto [table, status, logger] = load_names(schema_, m);
    const std::string commit = mode == load_mode::alter
                                   ? "ALTER TABLE " + table + " ENABLE TRIGGER " + status +
                                         ", ENABLE TRIGGER " + logger + "; COMMIT"
                                   : std::string("COMMIT");
    if (!ec)
        ec = co_await conn_.async_exec(commit, diag);
    if (ec && conn_.is_open()) {
        pg::diagnostics ignore;
        (void)co_await conn_.async_exec("ROLLBACK", ignore);
    }
    co_return ec;
}

namespace {
// The state row's update, shared by both paths: high-water marks only move forward.
std::string state_update_sql(const std::string& schema) {
    return "UPDATE " + mappings::quote_identifier(schema) +
           "._sfbridge_state SET replay_id = coalesce($2::bigint, replay_id), "
           "poll_high_water = greatest(poll_high_water, $3::timestamp), "
           "deleted_high_water = greatest(deleted_high_water, $4::timestamp), "
           "last_event_at = CASE WHEN $5::boolean THEN now() ELSE last_event_at END, "
           "updated_at = now() WHERE object_name = $1";
}

pg::params state_params(const std::string& object, const position_update& pos) {
    pg::params p;
    p.add(object);
    p.add(pos.replay_id);
    p.add(pos.poll_high_water.empty() ? std::optional<std::string>()
                                      : std::optional<std::string>(pos.poll_high_water));
    p.add(pos.deleted_high_water.empty() ? std::optional<std::string>()
                                         : std::optional<std::string>(pos.deleted_high_water));
    p.add(pos.event);
    return p;
}
} // namespace

// A few rows (the stream at low load): the whole transaction in one pipeline, one round trip.
// The sync group is one implicit transaction; the advisory lock and the staging rows end with
// it, as on the COPY path.
asio::awaitable<error_code> table_writer::apply_small(const change_batch& batch,
                                                      const position_update& pos,
                                                      pg::diagnostics& diag) {
    pg::pipeline p;
    add_small(p, batch, pos);
    p.sync();
    pg::pipeline_result out;
    co_return co_await conn_.async_execute(p, out, diag);
}

asio::awaitable<error_code> table_writer::apply_group(const std::vector<group_item>& items,
                                                      pg::diagnostics& diag) {
    pg::pipeline p;
    // A lock held elsewhere (the write-back over its creates, an app's row) is not waited for
    // here: the group would hold the other mappings' locks and rows meanwhile, and several
    // waits could pass the operation's deadline. It fails at once instead, and the caller's
    // one-by-one path waits as it always did.
    p.add_prepared("SELECT set_config('lock_timeout', '" + std::to_string(group_lock_wait.count()) +
                   "ms', true)");
    for (const auto& it : items) {
        if (it.batch->size() > small_batch)
            throw std::logic_error("apply_group: a batch larger than small_batch");
        if (auto ec = co_await ensure_stage(*it.batch, diag))
            co_return ec;
        add_small(p, *it.batch, it.pos);
    }
    p.sync(); // one implicit transaction: every statement up to the sync
    pg::pipeline_result out;
    co_return co_await conn_.async_execute(p, out, diag);
}

asio::awaitable<error_code> table_writer::ensure_stage(const change_batch& batch,
                                                       pg::diagnostics& diag) {
    const auto& m = batch.mapping();
    // A small batch merges from a VALUES list; only COPY and the upsert field's path stage.
    // (Creating two hundred staging tables at the stream's first events stalled it for seconds.)
    if (batch.empty() || staged_.count(m.table) || (batch.size() <= small_batch && !m.upsert_field))
        co_return error_code{};
    auto ec = co_await conn_.async_exec(merge_sql::create_stage(m), diag);
    if (!ec)
        staged_.insert(m.table);
    co_return ec;
}

void table_writer::add_small(pg::pipeline& p, const change_batch& batch,
                             const position_update& pos) {
    const auto& m = batch.mapping();
    const bool prepare = batch.size() <= prepared_batch;
    auto add = [&](std::string sql, pg::params args) {
        if (prepare)
            p.add_prepared(std::move(sql), std::move(args));
        else
            p.add(std::move(sql), std::move(args));
    };
    p.add_prepared(leadership_sql::fence(schema_),
                   pg::params(m.object_name, static_cast<long long>(pos.epoch)));
    if (!batch.empty() && !m.upsert_field) {
        // One statement: the merge over the rows as a VALUES list.
        pg::params args;
        batch.visit([&](char op, const std::vector<std::optional<std::string>>& values) {
            args.add(std::string(1, op));
            for (const auto& v : values)
                args.add(v);
        });
        add(merge_sql::merge_values(schema_, m, batch.size()), std::move(args));
    } else if (!batch.empty()) {
        std::string sql = "INSERT INTO " + merge_sql::stage_table(m) + " (_op";
        for (const auto& f : m.fields)
            sql += ", " + mappings::quote_identifier(f.column);
        sql += ") VALUES ";
        pg::params args;
        std::size_t n = 0;
        bool first_row = true;
        batch.visit([&](char op, const std::vector<std::optional<std::string>>& values) {
            sql += first_row ? "(" : ", (";
            first_row = false;
            args.add(std::string(1, op));
            sql += "$" + std::to_string(++n);
            for (const auto& v : values) {
                args.add(v);
                sql += ", $" + std::to_string(++n);
            }
            sql += ")";
        });
        add(std::move(sql), std::move(args));
        const std::string merge = merge_sql::merge(schema_, m);
        for (std::size_t start = 0; start < merge.size();) {
            auto end = merge.find(";\n", start);
            if (end == std::string::npos)
                end = merge.size();
            if (end > start)
                p.add_prepared(merge.substr(start, end - start)); // the same for every size
            start = end + 2;
        }
    }
    p.add_prepared(state_update_sql(schema_), state_params(m.object_name, pos));
}

asio::awaitable<error_code> table_writer::apply(const change_batch& batch,
                                                const position_update& pos, pg::diagnostics& diag) {
    const auto& m = batch.mapping();
    error_code ec = co_await ensure_stage(batch, diag);
    if (ec)
        co_return ec;
    if (batch.size() <= small_batch)
        co_return co_await apply_small(batch, pos, diag);
    // Every writer of a mapping (the stream, the poller, a second sfbridge) takes the mapping's
    // lock first: a delete must see a concurrent upsert's row, or the row would come back.
    auto fail = [&](error_code e) -> asio::awaitable<error_code> {
        if (conn_.is_open() && !conn_.in_copy()) {
            pg::diagnostics ignore;
            (void)co_await conn_.async_exec("ROLLBACK", ignore);
        }
        co_return e;
    };
    ec = co_await conn_.async_exec("BEGIN", diag);
    pg::result fenced;
    if (!ec) // the mapping's writer lock, and this replica's lead checked (leadership_sql)
        ec = co_await conn_.async_query(
            leadership_sql::fence(schema_),
            pg::params(m.object_name, static_cast<long long>(pos.epoch)), fenced, diag);
    if (ec) // the BEGIN may have run: the transaction is open and aborted
        co_return co_await fail(ec);
    if (!batch.empty()) {
        ec = co_await conn_.async_copy_start(merge_sql::copy_into_stage(m), diag);
        if (ec)
            co_return co_await fail(ec);
        copy_buf_.clear();
        batch.copy_text(copy_buf_);
        constexpr std::size_t chunk = 256 * 1024;
        for (std::size_t off = 0; off < copy_buf_.size(); off += chunk) {
            ec = co_await conn_.async_copy_write(std::string_view(copy_buf_).substr(off, chunk),
                                                 diag);
            if (ec)
                co_return co_await fail(ec);
        }
        std::uint64_t rows = 0;
        ec = co_await conn_.async_copy_end(rows, diag);
        if (ec)
            co_return co_await fail(ec);
        ec = co_await conn_.async_exec(merge_sql::merge(schema_, m), diag);
        if (ec)
            co_return co_await fail(ec);
    }
    // The position moves in the same transaction.
    pg::result r;
    ec = co_await conn_.async_query(state_update_sql(schema_), state_params(m.object_name, pos), r,
                                    diag);
    if (ec)
        co_return co_await fail(ec);
    co_return co_await conn_.async_exec("COMMIT", diag);
}

} // namespace sfbridge::bridge
