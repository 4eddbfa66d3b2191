#pragma once

#include <string>
#include <string_view>

// The statements of leadership among replicas (bridge/leadership, issue 19). Each mapping has a
// leader: the replica whose lock session holds the mapping's session-level advisory lock (the
// two-key form, so that it never meets the one-key locks writers take per transaction). On
// taking it, the leader increments the mapping's epoch in _sfbridge_state; every transaction
// that writes the mapping's rows calls _sfbridge_lead(object, epoch) first, which takes the
// mapping's writer lock and fails with SQLSTATE SB001 when the epoch has moved on. Because the
// increment takes the same writer lock, a stale leader's transaction either commits before the
// new leader starts or fails: its late writes cannot land after.
namespace sfbridge::bridge::leadership_sql {

// The SQLSTATE _sfbridge_lead raises for a stale epoch.
inline constexpr std::string_view fenced_sqlstate = "SB001";

// Application names: what pg_stat_activity shows for a replica's sessions. A replica is live
// while its lock session is connected; the write-back sessions of one that is not are ended
// by the next leader of its mappings (they may hold claimed rows).
[[nodiscard]] std::string lock_session_name(std::string_view replica);
[[nodiscard]] std::string writeback_session_name(std::string_view replica);

// Columns, table and function, idempotent; run under the DDL lock at every start.
[[nodiscard]] std::string setup(std::string_view schema);

// $1 object, $2 epoch: the fence, first in a transaction writing the mapping. The shared form
// for the COPY batches of a load into an empty table, which run side by side on two sessions.
[[nodiscard]] std::string fence(std::string_view schema);
[[nodiscard]] std::string shared_fence(std::string_view schema);

// $1 schema, $2 object -> boolean. Session-level; held until released or the session ends.
[[nodiscard]] std::string try_lock();
[[nodiscard]] std::string unlock();
// On the lock session once the lock is held: waits (lock_timeout) for the mapping's writers,
// then $1 object, $2 replica -> the new epoch. One transaction (BEGIN ... COMMIT around it).
[[nodiscard]] std::string take_writer_lock(std::string_view schema);
[[nodiscard]] std::string increment_epoch(std::string_view schema);
// $1 object, $2 replica: no leader recorded once it hands the mapping over.
[[nodiscard]] std::string clear_leader(std::string_view schema);
// $1 object: ends the sessions that still hold the mapping's writer lock (a former leader cut
// off from us; its transactions could only fail the fence) -> how many.
[[nodiscard]] std::string end_writer_lock_holders(std::string_view schema);
// Ends the write-back sessions of replicas whose lock session is gone.
[[nodiscard]] std::string end_orphaned_writebacks();

// $1 replica, $2 host, $3 pid, $4 leads (text[]).
[[nodiscard]] std::string heartbeat(std::string_view schema);
// $1 replica -> replica_id, leads (text), host, pid: the other replicas with a lock session.
[[nodiscard]] std::string live_others(std::string_view schema);
// Rows of replicas gone for a day.
[[nodiscard]] std::string prune_replicas(std::string_view schema);

} // namespace sfbridge::bridge::leadership_sql
