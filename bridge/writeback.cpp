// The write-back's batch loop: claim, send by phase (writeback_send.cpp), record, retry, and
// keep the outcomes across a lost Postgres session and a stop.
#include "bridge/writeback.hpp"

#include "bridge/leadership_sql.hpp"
#include "core/backoff.hpp"
#include "core/calendar.hpp"
#include "core/log.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

writeback::writeback(asio::any_io_executor ex, writeback_config cfg,
                     std::vector<mappings::resolved_mapping> maps, salesforce::rest_client& rest)
    : ex_(ex), cfg_(std::move(cfg)), maps_(std::move(maps)), rest_(rest), log_(ex, cfg_.schema),
      pause_(ex) {
    log_.set_replica(cfg_.replica);
    log_.set_leads(cfg_.leads, cfg_.mapped_tables);
}

// Another replica leads a mapping of this batch now: nothing more is sent or recorded (each
// recording would fail the fence again); the rows stay PENDING until this session ends, then
// the new leader's write-back takes them (requeue_orphans) and looks for the records of the
// creates among them before sending anything.
void writeback::check_fenced(const pg::diagnostics& d) {
    if (d.sqlstate != leadership_sql::fenced_sqlstate)
        return;
    stop();
    stop_deadline_ = std::chrono::steady_clock::now();
    if (cfg_.fenced)
        cfg_.fenced();
}

const mappings::resolved_mapping* writeback::mapping_for(const std::string& table) const {
    for (const auto& m : maps_)
        if (m.table == table && m.read_write())
            return &m;
    return nullptr;
}

void writeback::stop() {
    // Two seconds before the process's own deadline, so that the give-up (and the noting of
    // answered creates) happens before the process exits anyway.
    if (!stopping_)
        stop_deadline_ =
            std::chrono::steady_clock::now() +
            std::max(std::chrono::seconds(0), cfg_.shutdown_grace - std::chrono::seconds(2));
    stopping_ = true;
    pause_.cancel();
    log_.cancel_wait();
}

asio::awaitable<void> writeback::pause(std::chrono::milliseconds d) {
    if (stopping_)
        co_return;
    error_code ignore;
    pause_.expires_after(d);
    co_await pause_.async_wait(asio::redirect_error(asio::use_awaitable, ignore));
}

asio::awaitable<error_code> writeback::record(const std::vector<entry*>& done, bool in_transaction,
                                              std::vector<entry*>* refused) {
    if (done.empty())
        co_return error_code{};
    pg::diagnostics d;
    auto ec = co_await log_.record(done, in_transaction, d, refused);
    check_fenced(d);
    if (ec)
        log::warn("writeback",
                  "recording outcomes failed; they are kept and recorded once "
                  "Postgres answers",
                  {{"error", d.summary()}, {"outcomes", static_cast<unsigned long>(done.size())}});
    co_return ec;
}

// Outcomes Postgres did not take (the app's trigger refused a row, the session was lost): the
// records of answered creates are noted in the trigger log on their own, so that a stop or a
// crash before they are recorded does not make the next process create them again.
asio::awaitable<void> writeback::keep_created(const std::vector<entry*>& done) {
    if (!log_.is_open())
        co_return;
    pg::diagnostics d;
    if (co_await log_.note_created(done, d))
        log::warn("writeback", "cannot note the records of answered creates",
                  {{"error", d.summary()}});
}

asio::awaitable<bool> writeback::process(std::vector<entry>& batch) {
    const mapping_lookup find = [this](const std::string& t) { return mapping_for(t); };
    co_await promote_never_inserted(batch);
    auto work = classify(batch, find);
    bool transient = false;
    batch_sfids_.clear(); // records this batch holds: a reconciliation never adopts them
    for (const auto& e : batch) {
        if (!e.new_sfid.empty())
            batch_sfids_.insert(e.new_sfid);
        if (e.created) // answered before, adopted below: no other entry may take it
            batch_sfids_.insert(e.sfid);
    }
    if (!work.inserts.empty()) {
        // Hold the mappings' locks from before the creates until their sfids are in the rows:
        // the stream writer takes the same lock, so the event of a record created here cannot
        // be applied before the row knows its sfid (it would insert the record a second time,
        // Heroku Connect's duplicate-row problem).
        std::vector<std::string> objects;
        for (auto& [table, es] : work.inserts)
            objects.push_back(mapping_for(table)->object_name);
        pg::diagnostics d;
        if (co_await log_.lock_mappings(objects, d)) {
            check_fenced(d);
            co_await log_.rollback(); // the locks taken, if any, go
            co_return true;
        }
        for (const auto& table : insert_order(work.inserts, find)) {
            if (stopping_)
                break;
            transient =
                co_await send_inserts(*mapping_for(table), work.inserts[table]) || transient;
        }
        auto first = unrecorded(batch);
        std::erase_if(first, [](const entry* e) { return !e->stamp_error.empty(); }); // (below)
        // The sfids into the rows in one transaction, before updates look for them, and only
        // then the locks released.
        auto ec = co_await log_.begin(d);
        if (!ec)
            ec = co_await record(first, true);
        if (!ec) // a restart reconciles them too
            ec = co_await log_.mark_unknown(batch, d);
        if (!ec)
            ec = co_await log_.commit(d);
        if (ec) {
            // The outcomes stay in the batch, recorded once Postgres answers, but no longer
            // under the lock: the records' echo may become rows of their own meanwhile.
            co_await log_.rollback();
            for (auto* e : first)
                if (e->action == write_action::insert && !e->new_sfid.empty())
                    e->replaces_echo = true;
            co_await keep_created(first);
            co_return true;
        }
        recorded(first);
    }
    // A stop lets the calls in flight finish, but starts no more.
    for (auto& [table, es] : work.updates) {
        if (stopping_)
            break;
        // Updates of rows whose insert is still pending wait for it.
        std::vector<entry*> ready;
        for (auto* e : es) {
            if (!e->pending())
                continue; // settled with its row's insert
            bool waits = false;
            if (e->sfid.empty()) // until its insert's sfid is in the row (answered or not)
                for (const auto& i : batch) {
                    if (i.action != write_action::insert || i.table != table ||
                        i.record_id != e->record_id || i.recorded)
                        continue;
                    if (!i.stamp_error.empty()) { // settled, but the row refuses its stamp
                        if (!i.new_sfid.empty())
                            e->sfid = i.new_sfid; // known here
                    } else {
                        waits = true;
                    }
                }
            if (!waits)
                ready.push_back(e);
        }
        transient = co_await send_updates(*mapping_for(table), ready) || transient;
    }
    for (auto& [table, es] : work.deletes) {
        if (stopping_)
            break;
        transient = co_await send_deletes(*mapping_for(table), es) || transient;
    }
    if (co_await record_known(batch))
        co_return true;
    co_return transient || !batch.empty();
}

// Whether all that is left are outcomes Postgres refused to record for their rows' data.
bool writeback::only_refused_rows(std::vector<entry>& batch) {
    return std::all_of(batch.begin(), batch.end(), [](const entry& e) {
        return !e.pending() && !e.recorded && !e.stamp_error.empty();
    });
}

std::vector<writeback::entry*> writeback::unrecorded(std::vector<entry>& batch) {
    std::vector<entry*> out;
    for (auto& e : batch)
        if (!e.pending() && !e.recorded)
            out.push_back(&e);
    return out;
}

// The outcomes Postgres takes are recorded; a row whose data it refuses (the app's trigger
// raised for it) is recorded later, without holding back the others (see drain()).
asio::awaitable<bool> writeback::record_known(std::vector<entry>& batch) {
    auto done = unrecorded(batch);
    std::set<const entry*> first_time;
    for (const auto* e : done)
        if (e->stamp_error.empty())
            first_time.insert(e);
    std::vector<entry*> refused;
    if (co_await record(done, false, &refused)) {
        co_await keep_created(done);
        co_return true; // kept, and recorded on the next attempt
    }
    const std::set<entry*> out(refused.begin(), refused.end());
    std::erase_if(done, [&](entry* e) { return out.contains(e); });
    recorded(done);
    if (!refused.empty()) // (before the batch is compacted: the pointers are into it)
        co_await keep_created(refused);
    for (const auto* e : refused)
        if (first_time.contains(e))
            log::warn("writeback",
                      "Postgres refused to record a write's outcome in its row; the other rows "
                      "go on, and this one is tried again",
                      {{"table", e->table},
                       {"record_id", static_cast<long long>(e->record_id)},
                       {"action", e->action_text},
                       {"error", e->stamp_error}});
    const bool kept = !refused.empty();
    std::erase_if(batch, [](const entry& e) { return e.recorded; });
    co_return kept;
}

void writeback::inbound_caught_up() {
    caught_up_ = true;
    if (waiting_for_inbound_) // the timer is shared with the retry pauses: only this wait ends
        pause_.cancel();
}

// Until the inbound side has caught up (told by inbound_caught_up()), at most catch_up_wait.
asio::awaitable<void> writeback::wait_for_inbound() {
    caught_up_ = caught_up_ || !cfg_.inbound_caught_up || cfg_.inbound_caught_up();
    const auto until = std::chrono::steady_clock::now() + cfg_.catch_up_wait;
    pause_.expires_at(until);
    waiting_for_inbound_ = true;
    while (!stopping_ && !caught_up_ && std::chrono::steady_clock::now() < until) {
        error_code ignore;
        co_await pause_.async_wait(asio::redirect_error(asio::use_awaitable, ignore));
    }
    waiting_for_inbound_ = false;
}

// Connects to Postgres, again after a lost session: the rows this write-back holds are claimed
// again first (trigger_log::open), entries another sfbridge took meanwhile are left to it, and
// outcomes already known are kept to be recorded. Creates answered while the session was lost
// were not under the mapping's lock, so their echo may have become a row of its own.
asio::awaitable<bool> writeback::reopen(std::vector<entry>& batch) {
    std::vector<std::int64_t> held;
    for (const auto& e : batch)
        held.push_back(e.id);
    std::set<std::int64_t> kept;
    pg::diagnostics d;
    log_.close();
    if (co_await log_.open(cfg_.database_url, held, kept, d)) {
        log::warn("writeback", "cannot reach Postgres", {{"error", d.summary()}});
        log_.close();
        co_return false;
    }
    std::erase_if(batch, [&](const entry& e) { return e.pending() && !kept.contains(e.id); });
    for (auto& e : batch)
        if (!e.pending() && e.action == write_action::insert && !e.new_sfid.empty())
            e.replaces_echo = true;
    if (!held.empty())
        log::info("writeback", "reconnected to Postgres with a batch in hand",
                  {{"kept", static_cast<unsigned long>(batch.size())},
                   {"outcomes_to_record", static_cast<unsigned long>(unrecorded(batch).size())}});
    co_return true;
}

// Sends a claimed batch and what met a transient failure again, in order, until everything is
// sent and recorded. Postgres lost on the way is reconnected here, with the batch kept. On
// stop nothing more is sent, but outcomes already known are still recorded (the process exits
// at the end of its grace period whatever happens).
asio::awaitable<void> writeback::drain(std::vector<entry>& batch) {
    backoff retry({cfg_.retry_initial, cfg_.retry_max});
    while (!batch.empty()) {
        // Outcomes known and not refused for their rows are what a stop waits for.
        const auto to_record = unrecorded(batch);
        const bool nothing_to_record =
            std::all_of(to_record.begin(), to_record.end(),
                        [](const entry* e) { return !e->stamp_error.empty(); });
        if (stopping_ && (nothing_to_record || std::chrono::steady_clock::now() >= stop_deadline_))
            break; // the rest stays PENDING: the next start sends it (creates reconciled)
        if (!log_.is_open()) { // (two ifs: no co_await after && with GCC 12)
            if (!co_await reopen(batch)) {
                co_await nap(retry.next());
                continue;
            }
        }
        // (No co_await inside ?: : see decisions.md, GCC 12.)
        bool again = false;
        if (stopping_)
            again = co_await record_known(batch);
        else
            again = co_await process(batch);
        if (!again)
            break;
        if (only_refused_rows(batch)) {
            carried_ = std::move(batch); // tried again with the next batches, after new work
            batch.clear();
            break;
        }
        co_await release_parked(batch);
        if (batch.empty())
            break;
        ++stats_.retried;
        const auto unknown = static_cast<unsigned long>(
            std::count_if(batch.begin(), batch.end(), [](const entry& e) {
                return e.unknown && e.action == write_action::insert;
            }));
        log::warn(
            "writeback",
            unknown ? "answers to creates were lost: their records are looked for before "
                      "anything is sent again"
                    : "some writes are not through yet, retrying",
            {{"pending", static_cast<unsigned long>(batch.size())}, {"unknown_outcome", unknown}});
        co_await count_queue(false);
        co_await nap(retry.next());
    }
}

void writeback::park(const mappings::resolved_mapping& m) {
    if (!parked_.contains(m.table))
        log::warn("writeback",
                  "a mapping has used its daily API budget (sf_max_daily_api_calls): its writes "
                  "wait, the other mappings' go on",
                  {{"mapping", m.object_name}});
    parked_[m.table] = {m.object_name, std::chrono::steady_clock::now() + std::chrono::minutes(1)};
}

// A parked mapping is looked at again after a minute, or as soon as its budget allows a call
// (raised by `sfbridge` configuration, or a new UTC day).
std::vector<std::string> writeback::parked_tables() {
    const auto now = std::chrono::steady_clock::now();
    const auto day = salesforce::api_usage::day_of(std::chrono::system_clock::now());
    std::erase_if(parked_, [&](const auto& p) {
        return p.second.until <= now || rest_.usage().allow(p.second.object_name, day);
    });
    std::vector<std::string> out;
    for (const auto& [table, until] : parked_)
        out.push_back(table);
    return out;
}

// The pending entries of parked mappings go back to NEW, out of the batch, so that the batch
// (and the claims after it) need not wait for a budget that renews at midnight.
asio::awaitable<void> writeback::release_parked(std::vector<entry>& batch) {
    std::vector<std::int64_t> ids, sent;
    for (const auto& e : batch)
        if (e.pending() && parked_.contains(e.table)) {
            ids.push_back(e.id);
            if (e.unknown && e.action == write_action::update)
                sent.push_back(e.id); // its echo stays the app's own when it is claimed again
        }
    if (ids.empty())
        co_return;
    pg::diagnostics d;
    if (co_await log_.release(ids, sent, d))
        co_return; // kept in the batch and retried with it
    std::erase_if(batch, [&](const entry& e) { return e.pending() && parked_.contains(e.table); });
}

// A wait that a stop shortens only while nothing is left to record.
asio::awaitable<void> writeback::nap(std::chrono::milliseconds d) {
    if (!stopping_) {
        co_await pause(d);
        co_return;
    }
    asio::steady_timer t(ex_, std::min(d, std::chrono::milliseconds(500)));
    error_code ignore;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ignore));
}

asio::awaitable<void> writeback::run() {
    co_await wait_for_inbound();
    backoff reconnect({std::chrono::seconds(1), std::chrono::seconds(30)});
    while (!stopping_) {
        if (!log_.is_open()) {
            if (!co_await reopen(carried_)) {
                co_await pause(reconnect.next());
                continue;
            }
            reconnect.reset();
        }
        // As often as entries come of age, every 5 seconds to every minute.
        if (std::chrono::steady_clock::now() - last_archive_ >
            std::clamp<std::chrono::seconds>(cfg_.archive_after, std::chrono::seconds(5),
                                             std::chrono::minutes(1))) {
            last_archive_ = std::chrono::steady_clock::now();
            co_await log_.archive(cfg_.archive_after, cfg_.failed_kept);
        }
        // Rows a session that is gone still holds (another replica's, which ended after this
        // session opened) go back to the queue within seconds.
        if (std::chrono::steady_clock::now() - last_requeue_ > std::chrono::seconds(5)) {
            last_requeue_ = std::chrono::steady_clock::now();
            pg::diagnostics od;
            if (co_await log_.requeue_orphans(od))
                log::warn("writeback", "requeueing rows of ended sessions failed",
                          {{"error", od.summary()}});
        }
        // Outcomes Postgres refused for their rows go with each new batch, and every sweep.
        std::vector<entry> batch = std::move(carried_);
        carried_.clear();
        for (auto& e : batch)
            e.merged_into = nullptr; // settled: no pointer may outlive the move
        const std::size_t carried = batch.size();
        co_await count_queue(false);
        pg::diagnostics d;
        log_.set_salesforce_clock_offset(salesforce_clock_offset());
        if (co_await log_.claim(cfg_.claim_batch, parked_tables(), batch, d)) {
            log::warn("writeback", "claiming trigger log rows failed", {{"error", d.summary()}});
            carried_ = std::move(batch);
            std::erase_if(carried_, [](const entry& e) { return e.pending(); });
            log_.close();
            continue;
        }
        if (batch.size() == carried && carried > 0) {
            co_await drain(batch);
            if (!stopping_)
                co_await log_.wait(cfg_.sweep);
            continue;
        }
        if (batch.empty()) {
            if (stopping_) // a stop during the claim: the wait would not see it
                break;
            co_await count_queue(true); // what the status shows while idle is not stale
            co_await log_.wait(cfg_.sweep);
            continue;
        }
        co_await drain(batch);
    }
    log_.close();
}

} // namespace sfbridge::bridge
