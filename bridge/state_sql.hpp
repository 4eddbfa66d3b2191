#pragma once

#include "mappings/resolve.hpp"

#include <string>
#include <string_view>

// The SQL on sfbridge's own tables (_sfbridge_state, _sfbridge_errors, _sfbridge_seen,
// _sfbridge_deleted, _sfbridge_conflicts) and the few questions it asks of a mapping's table,
// in one place, as merge_sql is for the merge. Pure: text only, identifiers quoted, every value
// a parameter ($n, documented on each function). The schema must already be a plain identifier
// (mappings::ddl::is_valid_schema_name).
namespace sfbridge::bridge::state_sql {

// What a loaded table was loaded as, kept in _sfbridge_state.columns: the mapped columns, and
// the row filter when there is one. When the filter changes, the table loads again (it brings
// in the records the filter now admits and removes the others); added columns are back-filled
// (bridge/schema_change).
[[nodiscard]] std::string load_signature(const mappings::resolved_mapping& m);

// $1 object -> the stored signature, the columns still to back-fill and the fields' Salesforce
// types (bridge/schema_change::field_types; '' each when none).
[[nodiscard]] std::string stored_signature(std::string_view schema);
// One mapping's state row, created or updated at start. $1 object, $2 table, $3 schema
// version, $4 the column list, $5 reload asked for (boolean), $6 the signature asks for a
// load ('new'), $7 the columns to back-fill (text, or NULL), $8 the fields' Salesforce types.
// Returns load_state, replay_id and
// the two high-water marks in epoch milliseconds.
[[nodiscard]] std::string upsert_state(std::string_view schema);
// $1 object, $2 the columns back-filled: none left, unless a later start changed them.
[[nodiscard]] std::string finish_backfill(std::string_view schema);
// Every mapping's positions as committed: object, replay_id, and the poll and delete
// high-water marks in epoch milliseconds (NULL when not set). Read again after a session was
// replaced (a crash may have lost the last commits, see table_writer::positions_unsure).
[[nodiscard]] std::string positions(std::string_view schema);
// $1 object: forgets the stream position (a reload replays everything retained).
// $1 object -> load state, replay id, poll and delete high-water marks (ms), the columns left
// to back-fill ('' when none): what a replica reads when it starts leading the mapping.
[[nodiscard]] std::string lead_state(std::string_view schema);
[[nodiscard]] std::string forget_replay_id(std::string_view schema);
// $1 object, $2 when the load started (timestamp text).
[[nodiscard]] std::string mark_loading(std::string_view schema);
// $1 object, $2 when the load started: loaded, and both high-water marks at that time.
[[nodiscard]] std::string mark_loaded(std::string_view schema);
// A failed load: state `failing` (a requested reload stays `reload`), one more attempt, the
// error. $1 object, $2 error, $3 the caller's leadership epoch (nothing changes when it moved on).
[[nodiscard]] std::string load_failed(std::string_view schema);
// $1 object... : the objects `sfbridge reload` asked for.
[[nodiscard]] std::string reload_requests(std::string_view schema);
// $1 object name (case-insensitive): `sfbridge reload`.
[[nodiscard]] std::string request_reload(std::string_view schema);
// The replicas seen in the last hour: id, host, pid, live or gone (their lock session), last
// heartbeat (UTC), what they lead.
[[nodiscard]] std::string replicas(std::string_view schema);
// One row per mapping for `sfbridge status`: object, table, load_state, last event (UTC
// text or '-'), seconds since the poll high-water mark ('N s ago' or '-'), replay id or '-',
// error count, failed load attempts, the last load error ('' when none), the leader, and the
// last refresh of formula fields: when (UTC), records read, rows changed ('' when none).
[[nodiscard]] std::string status(std::string_view schema);
// $1 object -> milliseconds since its formula fields were last refreshed or it was last
// loaded, whichever is later (NULL: neither).
[[nodiscard]] std::string last_refresh(std::string_view schema);
// `sfbridge reload --schema-only`: asked now.
[[nodiscard]] std::string request_schema_reload(std::string_view schema);
// $1 this replica's id -> one row, true when a schema reload was asked since it started (its
// row in _sfbridge_replicas).
[[nodiscard]] std::string schema_reload_requested(std::string_view schema);
// $1 object, $2 records read, $3 rows changed: a refresh of formula fields finished.
[[nodiscard]] std::string record_refresh(std::string_view schema);

// $1 loop name, $2 error, $3 pid: a loop ended the process (counted per loop).
[[nodiscard]] std::string record_loop_death(std::string_view schema);
// A script run at each start: the deaths not yet followed by a start get this one, and deaths
// older than a week are dropped.
[[nodiscard]] std::string note_start(std::string_view schema);
// For `sfbridge status`: loop, deaths, last death (UTC text), error, restarted at ('' if not).
[[nodiscard]] std::string loop_deaths(std::string_view schema);

// $1 object, $2 channel, $3 replay id, $4 message, $5 payload, $6 sfid (or NULL), $7 retry
// (Postgres refused the record: fetch it again later). A row with an sfid is not inserted when
// the same message about the same record is already there, unresolved.
[[nodiscard]] std::string insert_error(std::string_view schema);
// A mapping ($1)'s unresolved refusals (records Postgres refused, to fetch again): at most $2
// sfids, oldest first.
// (sfid, its first error's id) of unresolved refusals to retry, after the cursor $3, $2 at most.
[[nodiscard]] std::string refused_sfids(std::string_view schema);
// Those of these sfids ($2) marked resolved: the records are in the table now.
[[nodiscard]] std::string resolve_refused(std::string_view schema);
// Records the write-back adopted, to read again (_sfbridge_reread): queue the sfids $2 of the
// table $1 (once each); at most $2 of the table $1's, oldest first; forget the sfids $2 of $1.
[[nodiscard]] std::string queue_reread(std::string_view schema);
[[nodiscard]] std::string reread_sfids(std::string_view schema);
[[nodiscard]] std::string forget_reread(std::string_view schema);

// $1 object: the sfids a reload has seen so far are forgotten.
[[nodiscard]] std::string clear_seen(std::string_view schema);
// $1 object, $2 text[] of sfids.
[[nodiscard]] std::string insert_seen(std::string_view schema);
// $1 object, $2 when the load started, $3 at most this many: rows whose record the reload did
// not see and that no change since then touched (their record is gone from Salesforce). Run
// until it deletes fewer than $3: one statement per chunk keeps each within its deadline.
[[nodiscard]] std::string delete_unseen(std::string_view schema, std::string_view table,
                                        bool soft = false);

// $1 object, $2 retention in seconds.
[[nodiscard]] std::string prune_tombstones(std::string_view schema);
// The same for a mapping's errors (not refusals still to be retried) and conflicts.
[[nodiscard]] std::string prune_errors(std::string_view schema);
[[nodiscard]] std::string prune_conflicts(std::string_view schema);
// $1 the mapped table (`mapped`), $2 retention in seconds, $3 at most this many archived rows
// (a chunk: the caller repeats while a whole chunk went). The INSERT of a row that still
// exists is kept.
[[nodiscard]] std::string prune_archive(std::string_view schema, std::string_view mapped);

// $1 object, $2 table, $3..$9 arrays: record ids, sfids, trigger-log ids, fields, winners,
// kept values, lost values.
[[nodiscard]] std::string insert_conflicts(std::string_view schema);

// The advisory lock every writer of a mapping takes (the stream, the pollers, the loads, the
// write-back; through bridge/leadership_sql's fence, or directly over the write-back's creates),
// named by schema and object so that deployments in two schemas of one database never meet.
[[nodiscard]] std::string writer_lock_name(std::string_view schema, std::string_view object);
// Its key as SQL, for statements that take several locks in one text.
[[nodiscard]] std::string mapping_lock_key(std::string_view schema, std::string_view object);

// Questions about a mapping's table.
[[nodiscard]] std::string table_is_empty(std::string_view schema, std::string_view table);
// $1 the qualified table name, $2 and $3 Heroku Connect's trigger names: how many other
// (non-internal) triggers the table has.
[[nodiscard]] std::string other_triggers();
[[nodiscard]] std::string count_rows(std::string_view schema, std::string_view table);
[[nodiscard]] std::string analyze(std::string_view schema, std::string_view table);
// The rows a table held at its last ANALYZE or VACUUM (pg_class.reltuples, -1 when never):
// parameters $1 the schema, $2 the table (names as stored, unquoted).
[[nodiscard]] std::string planner_rows();

// `sfbridge errors` and `sfbridge retry`: the trigger log's FAILED rows, optionally of one
// table ($1) and one id (the next parameter), listed (id, table, record id, action, message,
// when) or set back to NEW.
[[nodiscard]] std::string failed_writes(std::string_view schema, bool by_table, bool by_id);
[[nodiscard]] std::string retry_failed_writes(std::string_view schema, bool by_table, bool by_id);

} // namespace sfbridge::bridge::state_sql
