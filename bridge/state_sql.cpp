#include "bridge/state_sql.hpp"

#include "mappings/ddl.hpp"
#include "mappings/types.hpp"

namespace sfbridge::bridge::state_sql {

namespace {
std::string table(std::string_view schema, std::string_view name) {
    return mappings::quote_identifier(schema) + "." + mappings::quote_identifier(name);
}
std::string state(std::string_view schema) {
    return table(schema, "_sfbridge_state");
}
std::string failed_where(bool by_table, bool by_id) {
    std::string where = " WHERE state = 'FAILED'";
    int n = 0;
    if (by_table)
        where += " AND table_name = $" + std::to_string(++n);
    if (by_id)
        where += " AND id = $" + std::to_string(++n) + "::integer";
    return where;
}
} // namespace

std::string load_signature(const mappings::resolved_mapping& m) {
    std::string columns;
    for (const auto& f : m.fields)
        columns += (columns.empty() ? "" : ",") + f.column;
    if (m.options.filter)
        columns += " WHERE " + m.filter_soql();
    return columns;
}

std::string stored_signature(std::string_view schema) {
    return "SELECT columns, coalesce(backfill_columns, ''), coalesce(field_types, '') FROM " +
           state(schema) + " WHERE object_name = $1";
}

std::string upsert_state(std::string_view schema) {
    return "INSERT INTO " + state(schema) +
           " AS s (object_name, table_name, schema_version, columns, field_types) VALUES ($1, $2, "
           "$3, $4, $8::text) "
           "ON CONFLICT (object_name) DO UPDATE SET table_name = EXCLUDED.table_name, "
           "schema_version = EXCLUDED.schema_version, columns = EXCLUDED.columns, "
           "load_state = CASE WHEN $5::boolean THEN 'reload' WHEN $6::boolean THEN 'new' ELSE "
           "s.load_state END, backfill_columns = CASE WHEN $5::boolean OR $6::boolean THEN NULL "
           "ELSE $7::text END, field_types = $8::text "
           "RETURNING load_state, replay_id, "
           "(extract(epoch from poll_high_water) * 1000)::bigint, "
           "(extract(epoch from deleted_high_water) * 1000)::bigint";
}

std::string positions(std::string_view schema) {
    return "SELECT object_name, replay_id, "
           "(extract(epoch from poll_high_water) * 1000)::bigint, "
           "(extract(epoch from deleted_high_water) * 1000)::bigint FROM " +
           state(schema);
}

std::string last_refresh(std::string_view schema) {
    // The age on the database's clock; the later of the last refresh and the last load.
    return "SELECT (extract(epoch from now() - greatest(refreshed_at, load_finished_at at time "
           "zone 'utc')) * 1000)::bigint FROM " +
           state(schema) + " WHERE object_name = $1";
}

std::string lead_state(std::string_view schema) {
    return "SELECT load_state, replay_id, "
           "(extract(epoch from poll_high_water) * 1000)::bigint, "
           "(extract(epoch from deleted_high_water) * 1000)::bigint, "
           "coalesce(backfill_columns, '') FROM " +
           state(schema) + " WHERE object_name = $1";
}

std::string forget_replay_id(std::string_view schema) {
    return "UPDATE " + state(schema) + " SET replay_id = NULL WHERE object_name = $1";
}

std::string mark_loading(std::string_view schema) {
    return "UPDATE " + state(schema) +
           " SET load_state = 'loading', load_started_at = $2::timestamp WHERE object_name = $1";
}

std::string finish_backfill(std::string_view schema) {
    return "UPDATE " + state(schema) +
           " SET backfill_columns = NULL WHERE object_name = $1 AND backfill_columns = $2";
}

std::string mark_loaded(std::string_view schema) {
    // A load fills every column: nothing is left to back-fill.
    return "UPDATE " + state(schema) +
           " SET load_state = 'loaded', load_finished_at = now() at time zone 'utc', "
           "backfill_columns = NULL, "
           "load_attempts = 0, load_error = NULL, "
           "poll_high_water = $2::timestamp, deleted_high_water = $2::timestamp WHERE "
           "object_name = $1";
}

std::string load_failed(std::string_view schema) {
    // A requested reload stays requested: its loop goes on retrying. Only while the epoch is
    // the caller's: a former leader's failure must not mark the new leader's load as failing.
    return "UPDATE " + state(schema) +
           " SET load_state = CASE WHEN load_state = 'reload' THEN 'reload' ELSE 'failing' END, "
           "load_attempts = load_attempts + 1, load_error = $2 WHERE object_name = $1 AND "
           "leader_epoch = $3::bigint";
}

std::string reload_requests(std::string_view schema) {
    return "SELECT object_name FROM " + state(schema) + " WHERE load_state = 'reload'";
}

std::string request_reload(std::string_view schema) {
    return "UPDATE " + state(schema) +
           " SET load_state = 'reload' WHERE lower(object_name) = lower($1)";
}

std::string status(std::string_view schema) {
    return "SELECT object_name, table_name, load_state, "
           "coalesce(to_char(last_event_at at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS'), '-'), "
           "coalesce(round(extract(epoch from (now() at time zone 'utc' - "
           "poll_high_water)))::text || ' s ago', '-'), coalesce(replay_id::text, '-'), "
           "(SELECT count(*) FROM " +
           table(schema, "_sfbridge_errors") +
           " e WHERE e.object_name = s.object_name AND e.resolved_at IS NULL), load_attempts, "
           "coalesce(load_error, ''), "
           // (As JSON: a schema from before replicas has no such column.)
           "coalesce(to_jsonb(s) ->> 'leader_replica', ''), "
           "coalesce(to_char((to_jsonb(s) ->> 'refreshed_at')::timestamptz at time zone 'utc', "
           "'YYYY-MM-DD HH24:MI:SS'), ''), coalesce(to_jsonb(s) ->> 'refresh_records', ''), "
           "coalesce(to_jsonb(s) ->> 'refresh_changed', '') "
           "FROM " +
           state(schema) + " s ORDER BY object_name";
}

std::string request_schema_reload(std::string_view schema) {
    return "INSERT INTO " + table(schema, "_sfbridge_commands") +
           " (command) VALUES ('reload-schema') ON CONFLICT (command) DO UPDATE SET "
           "requested_at = now()";
}

std::string schema_reload_requested(std::string_view schema) {
    // Both times on the database's clock: the request's and this replica's first heartbeat.
    return "SELECT EXISTS (SELECT 1 FROM " + table(schema, "_sfbridge_commands") + " c JOIN " +
           table(schema, "_sfbridge_replicas") +
           " r ON r.replica_id = $1 WHERE c.command = 'reload-schema' AND c.requested_at > "
           "r.started_at)";
}

std::string record_refresh(std::string_view schema) {
    return "UPDATE " + state(schema) +
           " SET refreshed_at = now(), refresh_records = $2::bigint, refresh_changed = $3::bigint "
           "WHERE object_name = $1";
}

std::string replicas(std::string_view schema) {
    return "SELECT r.replica_id, coalesce(r.host, ''), coalesce(r.pid::text, ''), "
           "CASE WHEN EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = "
           "'sfbridge-lock ' || r.replica_id) THEN 'live' ELSE 'gone' END, "
           "to_char(r.heartbeat_at at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS'), "
           "coalesce(array_to_string(r.leads, ', '), '') FROM " +
           table(schema, "_sfbridge_replicas") +
           " r WHERE r.heartbeat_at > now() - interval '1 hour' ORDER BY 4 DESC, 1";
}

std::string record_loop_death(std::string_view schema) {
    return "INSERT INTO " + table(schema, "_sfbridge_loops") +
           " AS l (loop, error, pid) VALUES ($1, $2, $3::integer) ON CONFLICT (loop) DO UPDATE "
           "SET deaths = CASE WHEN l.died_at < now() - interval '7 days' THEN 1 ELSE l.deaths + 1 "
           "END, died_at = now(), error = EXCLUDED.error, pid = "
           "EXCLUDED.pid, restarted_at = NULL";
}

std::string note_start(std::string_view schema) {
    // Deaths older than a week are history; the others say when sfbridge came back.
    const std::string loops = table(schema, "_sfbridge_loops");
    return "DELETE FROM " + loops + " WHERE died_at < now() - interval '7 days'; UPDATE " + loops +
           " SET restarted_at = now() WHERE restarted_at IS NULL";
}

std::string loop_deaths(std::string_view schema) {
    return "SELECT loop, deaths, to_char(died_at at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS'), "
           "error, coalesce(to_char(restarted_at at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS'), "
           "'') FROM " +
           table(schema, "_sfbridge_loops") + " ORDER BY died_at DESC";
}

std::string insert_error(std::string_view schema) {
    const std::string errors = table(schema, "_sfbridge_errors");
    // Typed: in INSERT ... SELECT the parameters take their types from here, not the columns.
    return "INSERT INTO " + errors +
           " (object_name, channel, replay_id, message, payload, sfid, retry) SELECT $1::text, "
           "$2::text, $3::bigint, $4::text, $5::text, $6::text, $7::boolean WHERE CASE WHEN "
           "$6::text IS NULL THEN $2::text <> 'schema' OR NOT EXISTS (SELECT 1 FROM " +
           errors +
           // A record's issue once; a schema warning (no record) once, not at every start.
           " WHERE object_name = $1::text AND channel = 'schema' AND sfid IS NULL AND message = "
           "$4::text AND resolved_at IS NULL) ELSE NOT EXISTS (SELECT 1 FROM " +
           errors +
           " WHERE object_name = $1::text AND sfid = $6::text AND message = $4::text AND "
           "resolved_at IS NULL) END";
}

std::string refused_sfids(std::string_view schema) {
    return "SELECT sfid, min(id) FROM " + table(schema, "_sfbridge_errors") +
           " WHERE object_name = $1 AND retry AND resolved_at IS NULL AND sfid IS NOT NULL GROUP "
           "BY sfid HAVING min(id) > $3 ORDER BY min(id) LIMIT $2";
}

std::string resolve_refused(std::string_view schema) {
    return "UPDATE " + table(schema, "_sfbridge_errors") +
           " SET resolved_at = now() WHERE object_name = $1 AND sfid = ANY($2::text[]) AND retry "
           "AND resolved_at IS NULL";
}

std::string queue_reread(std::string_view schema) {
    return "INSERT INTO " + table(schema, "_sfbridge_reread") +
           " (table_name, sfid) SELECT $1::text, unnest($2::text[]) ON CONFLICT DO NOTHING";
}

std::string reread_sfids(std::string_view schema) {
    return "SELECT sfid FROM " + table(schema, "_sfbridge_reread") +
           " WHERE table_name = $1 ORDER BY queued_at, sfid LIMIT $2";
}

std::string forget_reread(std::string_view schema) {
    return "DELETE FROM " + table(schema, "_sfbridge_reread") +
           " WHERE table_name = $1 AND sfid = ANY($2::text[])";
}

std::string clear_seen(std::string_view schema) {
    return "DELETE FROM " + table(schema, "_sfbridge_seen") + " WHERE object_name = $1";
}

std::string insert_seen(std::string_view schema) {
    return "INSERT INTO " + table(schema, "_sfbridge_seen") +
           " (object_name, sfid) SELECT $1, unnest($2::text[])";
}

std::string delete_unseen(std::string_view schema, std::string_view mapped, bool soft) {
    const std::string t = table(schema, mapped);
    const std::string rows =
        "ctid = ANY(ARRAY(SELECT u.ctid FROM " + t +
        " u WHERE u.sfid IS NOT NULL AND u.systemmodstamp < $2::timestamp AND NOT EXISTS "
        "(SELECT 1 FROM " +
        table(schema, "_sfbridge_seen") + " s WHERE s.object_name = $1 AND s.sfid = u.sfid)" +
        (soft ? " AND u.isdeleted IS NOT TRUE" : "") + " LIMIT $3))";
    if (!soft)
        return "DELETE FROM " + t + " WHERE " + rows;
    // Gone from Salesforce, recycle bin and all, when the load ran: kept, marked deleted then.
    return "UPDATE " + t + " SET isdeleted = true, " +
           mappings::quote_identifier(mappings::deleted_at_column) +
           " = $2::timestamp, _hc_lastop = 'SYNCED', _hc_err = NULL WHERE " + rows;
}

std::string prune_tombstones(std::string_view schema) {
    return "DELETE FROM " + table(schema, "_sfbridge_deleted") +
           " WHERE object_name = $1 AND systemmodstamp < (now() AT TIME ZONE 'utc') - "
           "make_interval(secs => $2::double precision)";
}

namespace {
std::string older_than(std::string_view column, std::string_view seconds) {
    return std::string(column) + " < now() - make_interval(secs => " + std::string(seconds) +
           "::double precision)";
}
} // namespace

std::string prune_errors(std::string_view schema) {
    return "DELETE FROM " + table(schema, "_sfbridge_errors") + " WHERE object_name = $1 AND " +
           older_than("created_at", "$2") + " AND (NOT retry OR resolved_at IS NOT NULL)";
}

std::string prune_conflicts(std::string_view schema) {
    return "DELETE FROM " + table(schema, "_sfbridge_conflicts") + " WHERE object_name = $1 AND " +
           older_than("detected_at", "$2");
}

std::string prune_archive(std::string_view schema, std::string_view mapped) {
    // A row's INSERT is how sfbridge knows the row is the app's (not an echo of its own): kept
    // while the row lives.
    const std::string t = table(schema, "_trigger_log_archive");
    return "DELETE FROM " + t + " WHERE ctid = ANY(ARRAY(SELECT a.ctid FROM " + t +
           " a WHERE a.table_name = $1 AND " + older_than("a.created_at", "$2") +
           " AND NOT (a.action = 'INSERT' AND EXISTS (SELECT 1 FROM " + table(schema, mapped) +
           " m WHERE m.id = a.record_id)) LIMIT $3))";
}

std::string insert_conflicts(std::string_view schema) {
    // A write retried after a transient failure finds the same conflict again: it is kept once.
    const std::string t = table(schema, "_sfbridge_conflicts");
    return "INSERT INTO " + t +
           " (object_name, table_name, record_id, sfid, trigger_log_id, field, winner, "
           "kept_value, lost_value) SELECT $1, $2, x.* FROM unnest($3::int[], $4::text[], "
           "$5::int[], $6::text[], $7::text[], $8::text[], $9::text[]) AS x(record_id, sfid, "
           "log_id, field, winner, kept, lost) WHERE NOT EXISTS (SELECT 1 FROM " +
           t +
           " c WHERE c.trigger_log_id = x.log_id AND c.field = x.field AND c.winner = x.winner "
           "AND c.kept_value IS NOT DISTINCT FROM x.kept AND c.lost_value IS NOT DISTINCT FROM "
           "x.lost)";
}

std::string writer_lock_name(std::string_view schema, std::string_view object) {
    return "sfbridge:" + std::string(schema) + ":" + std::string(object);
}

std::string mapping_lock_key(std::string_view schema, std::string_view object) {
    return "hashtext(" + mappings::ddl::quote_literal(writer_lock_name(schema, object)) + ")";
}

std::string table_is_empty(std::string_view schema, std::string_view mapped) {
    return "SELECT NOT EXISTS (SELECT 1 FROM " + table(schema, mapped) + ")";
}

std::string other_triggers() {
    return "SELECT count(*) FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal "
           "AND tgname NOT IN ($2, $3)";
}

std::string count_rows(std::string_view schema, std::string_view mapped) {
    return "SELECT count(*) FROM " + table(schema, mapped);
}

std::string analyze(std::string_view schema, std::string_view mapped) {
    return "ANALYZE " + table(schema, mapped);
}

std::string planner_rows() {
    return "SELECT c.reltuples::float8 FROM pg_class c JOIN pg_namespace n ON n.oid = "
           "c.relnamespace WHERE n.nspname = $1 AND c.relname = $2";
}

std::string failed_writes(std::string_view schema, bool by_table, bool by_id) {
    auto from = [&](std::string_view log, bool archived) {
        return "SELECT id, table_name, record_id, action, coalesce(sf_message, ''), "
               "to_char(updated_at at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS'), " +
               std::string(archived ? "true" : "false") + " AS archived FROM " +
               table(schema, log) + failed_where(by_table, by_id);
    };
    return from("_trigger_log", false) + " UNION ALL " + from("_trigger_log_archive", true) +
           " ORDER BY id";
}

std::string retry_failed_writes(std::string_view schema, bool by_table, bool by_id) {
    // The archive's only when named by id: a FAILED write stays a day in the trigger log, and
    // older ones requeued in bulk could send values the app has long replaced.
    if (!by_id)
        return "WITH reset AS (UPDATE " + table(schema, "_trigger_log") +
               " SET state = 'NEW', updated_at = now()" + failed_where(by_table, by_id) +
               " RETURNING 1) SELECT count(*) FROM reset";
    // In the trigger log: back to NEW. In the archive, as Heroku Connect's tools requeue: a
    // copy back into the trigger log as NEW (a new id; its capture time kept, which conflict
    // detection compares), and the archived entry marked REQUEUED.
    const std::string log = table(schema, "_trigger_log");
    return "WITH reset AS (UPDATE " + log + " SET state = 'NEW', updated_at = now()" +
           failed_where(by_table, by_id) + " RETURNING 1), requeued AS (UPDATE " +
           table(schema, "_trigger_log_archive") + " SET state = 'REQUEUED', updated_at = now()" +
           failed_where(by_table, by_id) +
           " RETURNING action, table_name, txid, created_at, record_id, sfid, old, \"values\"), "
           "copied AS (INSERT INTO " +
           log +
           " (action, table_name, txid, created_at, updated_at, state, record_id, sfid, old, "
           "\"values\") SELECT action, table_name, txid, created_at, now(), 'NEW', record_id, "
           "sfid, old, \"values\" FROM requeued RETURNING 1) SELECT (SELECT count(*) FROM reset) "
           "+ (SELECT count(*) FROM copied)";
}

} // namespace sfbridge::bridge::state_sql
