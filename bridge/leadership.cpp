#include "bridge/leadership.hpp"

#include "bridge/leadership_sql.hpp"
#include "core/log.hpp"
#include "mappings/ddl.hpp"
#include "pg/params.hpp"

#include <algorithm>
#include <array>
#include <random>
#include <unistd.h>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
std::string host_name() {
    std::array<char, 256> buf{};
    if (::gethostname(buf.data(), buf.size() - 1) != 0)
        return "host";
    std::string out;
    for (const char* p = buf.data(); *p && out.size() < 24; ++p) {
        const char c = *p;
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
        out += plain ? c : '_';
    }
    return out.empty() ? std::string("host") : out;
}

std::vector<std::optional<std::string>> as_array(const std::vector<std::string>& v) {
    return {v.begin(), v.end()};
}
} // namespace

std::string make_replica_id(const std::string& name) {
    std::random_device rd;
    const unsigned suffix = rd() & 0xffffffu;
    char hex[8];
    std::snprintf(hex, sizeof hex, "%06x", suffix);
    if (!name.empty())
        return name + "-" + hex;
    return host_name() + "-" + std::to_string(::getpid()) + "-" + hex;
}

leadership::leadership(asio::any_io_executor ex, std::string schema, std::string replica)
    : conn_(std::move(ex)), schema_(std::move(schema)), replica_(std::move(replica)) {}

std::vector<std::string> leadership::led() const {
    std::vector<std::string> out;
    for (const auto& [object, epoch] : leads_)
        out.push_back(object);
    return out;
}

void leadership::close() noexcept {
    conn_.close();
    leads_.clear();
    held_.clear();
    unclaimed_.clear();
}

asio::awaitable<error_code> leadership::connect(const std::string& dsn, pg::diagnostics& diag) {
    close();
    auto ec = co_await conn_.async_connect(dsn, diag);
    if (ec)
        co_return ec;
    conn_.set_timeout(statement_deadline);
    // Server-side keepalives and user timeout: Postgres itself ends this session, and frees
    // its locks, when the replica vanishes without closing it (ignored on a Unix socket).
    // lock_timeout under the statement deadline: a wait for a mapping's writers fails alone.
    ec = co_await conn_.async_exec(
        "SET application_name = " +
            mappings::ddl::quote_literal(leadership_sql::lock_session_name(replica_)) +
            "; SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET "
            "tcp_keepalives_count = 3; SET tcp_user_timeout = 10000; SET lock_timeout = '2s'; "
            "SET idle_in_transaction_session_timeout = '10s'",
        diag);
    if (ec)
        close();
    co_return ec;
}

asio::awaitable<error_code> leadership::round(const std::vector<std::string>& mappings,
                                              leadership_round& out, pg::diagnostics& diag) {
    out = {};
    pg::result r;
    auto ec =
        co_await conn_.async_query(leadership_sql::heartbeat(schema_),
                                   pg::params(replica_, host_name(), static_cast<long>(::getpid()),
                                              pg::text_array(as_array(led()))),
                                   r, diag);
    if (!ec)
        ec = co_await conn_.async_query(leadership_sql::live_others(schema_), pg::params(replica_),
                                        r, diag);
    if (ec)
        co_return ec;
    for (int i = 0; i < r.rows(); ++i) {
        replica_view v;
        v.id = r.value(i, 0);
        const std::string leads(r.value(i, 1));
        for (std::size_t at = 0; at < leads.size();) {
            const auto comma = std::min(leads.find(',', at), leads.size());
            if (comma > at)
                v.leads.push_back(leads.substr(at, comma - at));
            at = comma + 1;
        }
        out.others.push_back(std::move(v));
    }
    const auto plan =
        plan_leadership(mappings, replica_view{replica_, led()}, out.others, unclaimed_);
    std::map<std::string, int> rounds;
    for (const auto& m : plan.unclaimed)
        rounds[m] = unclaimed_[m] + 1;
    unclaimed_ = std::move(rounds);
    out.share = plan.share;
    out.surplus = plan.release;
    for (const auto& object : plan.acquire) {
        bool taken = false;
        if ((ec = co_await take(object, taken, diag)))
            co_return ec;
        if (taken)
            out.taken.push_back(object);
    }
    // A lock held for a take that did not finish, and no longer in the plan (the share shrank):
    // let go, or no replica could ever take the mapping.
    for (auto it = held_.begin(); it != held_.end();) {
        if (std::find(plan.acquire.begin(), plan.acquire.end(), it->first) != plan.acquire.end()) {
            ++it;
            continue;
        }
        pg::result unlocked;
        if ((ec = co_await conn_.async_query(leadership_sql::unlock(),
                                             pg::params(schema_, it->first), unlocked, diag)))
            co_return ec;
        it = held_.erase(it);
    }
    if (std::chrono::steady_clock::now() - last_prune_ > std::chrono::hours(1)) {
        last_prune_ = std::chrono::steady_clock::now();
        pg::result ignore;
        if ((ec =
                 co_await conn_.async_query(leadership_sql::prune_replicas(schema_), ignore, diag)))
            co_return ec;
    }
    co_return error_code{};
}

// The lock, then the epoch: the increment waits (lock_timeout) for the mapping's writers to
// commit. Writers that keep it from us belong to a former leader cut off from Postgres (we
// hold the lead lock, so it lost it): their sessions are ended and the next round tries again.
asio::awaitable<error_code> leadership::take(const std::string& object, bool& taken,
                                             pg::diagnostics& diag) {
    taken = false;
    pg::result r;
    if (!held_.count(object)) {
        auto ec = co_await conn_.async_query(leadership_sql::try_lock(),
                                             pg::params(schema_, object), r, diag);
        if (ec)
            co_return ec;
        if (r.rows() != 1 || r.value(0, 0) != "t")
            co_return error_code{}; // another replica leads it
        held_[object] = true;
    }
    // A failure of the increment's own (lock_timeout, no state row yet) only means "not this
    // round": the lock stays held and the next round tries again. The session's failures end
    // the round.
    pg::diagnostics step;
    auto ec = co_await conn_.async_exec("BEGIN", diag);
    if (!ec)
        ec = co_await conn_.async_query(leadership_sql::take_writer_lock(schema_),
                                        pg::params(object), r, step);
    std::int64_t epoch = 0;
    bool incremented = false;
    if (!ec) {
        ec = co_await conn_.async_query(leadership_sql::increment_epoch(schema_),
                                        pg::params(object, replica_), r, step);
        incremented = !ec && r.rows() == 1;
        if (incremented)
            epoch = std::stoll(std::string(r.value(0, 0)));
    }
    if (!ec && incremented)
        ec = co_await conn_.async_exec("COMMIT", step);
    if (ec || !incremented) {
        const bool waited = step.sqlstate == "55P03";
        if (ec && !waited && !conn_.is_open()) {
            diag = step;
            co_return ec;
        }
        if (co_await conn_.async_exec("ROLLBACK", diag))
            co_return make_error_code(boost::system::errc::io_error);
        if (waited)
            co_await end_holders(object);
        else if (ec)
            log::warn("leadership", "taking the mapping failed; trying again next round",
                      {{"mapping", object}, {"error", step.summary()}});
        co_return error_code{};
    }
    // The write-back sessions of replicas whose lock session is gone: the rows they claimed
    // go back to the queue (trigger_log::requeue_orphans) and are sent by the new leaders.
    pg::diagnostics orphans;
    if (co_await conn_.async_query(leadership_sql::end_orphaned_writebacks(), r, orphans))
        log::warn("leadership", "ending the write-back sessions of gone replicas failed",
                  {{"error", orphans.summary()}});
    held_.erase(object);
    leads_[object] = epoch;
    taken = true;
    log::info("leadership", "leading the mapping",
              {{"mapping", object}, {"epoch", static_cast<long long>(epoch)}});
    co_return error_code{};
}

// Writers that keep the mapping's writer lock from us belong to a former leader cut off from
// Postgres (we hold the lead lock, so it lost it): their sessions are ended (best effort: a
// role may not end another role's sessions).
asio::awaitable<void> leadership::end_holders(const std::string& object) {
    pg::result r;
    pg::diagnostics d;
    if (co_await conn_.async_query(leadership_sql::end_writer_lock_holders(schema_),
                                   pg::params(object), r, d))
        log::warn("leadership", "ending a former leader's sessions failed",
                  {{"mapping", object}, {"error", d.summary()}});
    else
        log::warn("leadership",
                  "ended the sessions of a former leader that still held the mapping's writer "
                  "lock",
                  {{"mapping", object}, {"sessions", std::string(r.value(0, 0))}});
}

asio::awaitable<error_code> leadership::release(const std::vector<std::string>& objects,
                                                pg::diagnostics& diag) {
    for (const auto& object : objects) {
        pg::result r;
        auto ec = co_await conn_.async_query(leadership_sql::clear_leader(schema_),
                                             pg::params(object, replica_), r, diag);
        if (!ec)
            ec = co_await conn_.async_query(leadership_sql::unlock(), pg::params(schema_, object),
                                            r, diag);
        if (ec)
            co_return ec;
        leads_.erase(object);
        log::info("leadership", "handed the mapping over", {{"mapping", object}});
    }
    co_return error_code{};
}

} // namespace sfbridge::bridge
