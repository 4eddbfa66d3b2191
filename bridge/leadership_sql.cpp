#include "bridge/leadership_sql.hpp"

#include "mappings/ddl.hpp"
#include "mappings/types.hpp"

namespace sfbridge::bridge::leadership_sql {

namespace {
std::string table(std::string_view schema, std::string_view name) {
    return mappings::quote_identifier(schema) + "." + mappings::quote_identifier(name);
}
// The writer lock's key for the object in $1, as state_sql::mapping_lock_key spells it.
std::string writer_key(std::string_view schema) {
    return "pg_catalog.hashtext(" +
           mappings::ddl::quote_literal("sfbridge:" + std::string(schema) + ":") + " || $1)";
}
constexpr std::string_view lock_prefix = "sfbridge-lock ";
constexpr std::string_view writeback_prefix = "sfbridge-writeback ";
} // namespace

std::string lock_session_name(std::string_view replica) {
    return std::string(lock_prefix) + std::string(replica);
}

std::string writeback_session_name(std::string_view replica) {
    return std::string(writeback_prefix) + std::string(replica);
}

std::string setup(std::string_view schema) {
    const std::string state = table(schema, "_sfbridge_state");
    const std::string prefix =
        mappings::ddl::quote_literal("sfbridge:" + std::string(schema) + ":");
    std::string s = "BEGIN;\nSELECT pg_advisory_xact_lock(hashtext('sfbridge.ddl'));\n";
    // Only when missing: an ALTER TABLE, even one that adds nothing, takes the table's
    // strongest lock and would queue every replica's fence behind a running load.
    s += "DO $sfbridge$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = " +
         mappings::ddl::quote_literal(state) +
         "::regclass AND attname = 'leader_since' AND NOT attisdropped) THEN ALTER TABLE " + state +
         " ADD COLUMN IF NOT EXISTS leader_epoch bigint NOT NULL DEFAULT 0, ADD COLUMN IF NOT "
         "EXISTS leader_replica text, ADD COLUMN IF NOT EXISTS leader_since timestamp with time "
         "zone; END IF; END $sfbridge$;\n";
    // One row per replica that ever ran, for `sfbridge status`; liveness is the lock session.
    s += "CREATE TABLE IF NOT EXISTS " + table(schema, "_sfbridge_replicas") +
         " (\n"
         "    replica_id text PRIMARY KEY,\n"
         "    host text,\n"
         "    pid integer,\n"
         "    started_at timestamp with time zone NOT NULL DEFAULT now(),\n"
         "    heartbeat_at timestamp with time zone NOT NULL DEFAULT now(),\n"
         "    leads text[] NOT NULL DEFAULT '{}'\n"
         ");\n";
    // Names qualified: the function runs in the app's sessions' search_path too.
    s += "CREATE OR REPLACE FUNCTION " + table(schema, "_sfbridge_lead") +
         "(p_object text, p_epoch bigint, p_shared boolean) RETURNS void LANGUAGE plpgsql AS "
         "$sfbridge$\n"
         "BEGIN\n"
         "    IF p_shared THEN\n"
         "        PERFORM pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtext(" +
         prefix +
         " || p_object));\n"
         "    ELSE\n"
         "        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext(" +
         prefix +
         " || p_object));\n"
         "    END IF;\n"
         "    PERFORM 1 FROM " +
         state +
         " WHERE object_name = p_object AND leader_epoch = p_epoch;\n"
         "    IF NOT FOUND THEN\n"
         "        RAISE EXCEPTION 'sfbridge: this replica no longer leads the mapping %', "
         "p_object USING ERRCODE = '" +
         std::string(fenced_sqlstate) +
         "';\n"
         "    END IF;\n"
         "END\n"
         "$sfbridge$;\n";
    s += "COMMIT;\n";
    return s;
}

std::string fence(std::string_view schema) {
    return "SELECT " + table(schema, "_sfbridge_lead") + "($1, $2::bigint, false)";
}

std::string shared_fence(std::string_view schema) {
    return "SELECT " + table(schema, "_sfbridge_lead") + "($1, $2::bigint, true)";
}

std::string try_lock() {
    return "SELECT pg_try_advisory_lock(hashtext('sfbridge-lead:' || $1), hashtext($2))";
}

std::string unlock() {
    return "SELECT pg_advisory_unlock(hashtext('sfbridge-lead:' || $1), hashtext($2))";
}

std::string take_writer_lock(std::string_view schema) {
    return "SELECT pg_advisory_xact_lock(" + writer_key(schema) + ")";
}

std::string increment_epoch(std::string_view schema) {
    return "UPDATE " + table(schema, "_sfbridge_state") +
           " SET leader_epoch = leader_epoch + 1, leader_replica = $2, leader_since = now() "
           "WHERE object_name = $1 RETURNING leader_epoch";
}

std::string clear_leader(std::string_view schema) {
    return "UPDATE " + table(schema, "_sfbridge_state") +
           " SET leader_replica = NULL WHERE object_name = $1 AND leader_replica = $2";
}

std::string end_writer_lock_holders(std::string_view schema) {
    // A one-key advisory lock shows its key's high half in classid, its low half in objid.
    return "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' "
           "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
           "AND objsubid = 1 AND granted AND pid <> pg_backend_pid() AND "
           "((classid::bigint << 32) | objid::bigint) = " +
           writer_key(schema) + "::bigint";
}

std::string end_orphaned_writebacks() {
    const auto wb = std::to_string(writeback_prefix.size() + 1);
    return "SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a WHERE "
           "a.datname = current_database() AND a.application_name LIKE '" +
           std::string(writeback_prefix) +
           "%' AND NOT EXISTS (SELECT 1 FROM pg_stat_activity l WHERE l.datname = "
           "current_database() AND l.application_name = '" +
           std::string(lock_prefix) + "' || substr(a.application_name, " + wb + "))";
}

std::string heartbeat(std::string_view schema) {
    return "INSERT INTO " + table(schema, "_sfbridge_replicas") +
           " AS r (replica_id, host, pid, leads) VALUES ($1, $2, $3::integer, $4::text[]) ON "
           "CONFLICT (replica_id) DO UPDATE SET heartbeat_at = now(), leads = EXCLUDED.leads, "
           "host = EXCLUDED.host, pid = EXCLUDED.pid";
}

std::string live_others(std::string_view schema) {
    return "SELECT r.replica_id, array_to_string(r.leads, ','), coalesce(r.host, ''), "
           "coalesce(r.pid, 0) FROM " +
           table(schema, "_sfbridge_replicas") +
           " r WHERE r.replica_id <> $1 AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE "
           "a.datname = current_database() AND a.application_name = '" +
           std::string(lock_prefix) + "' || r.replica_id) ORDER BY r.replica_id";
}

std::string prune_replicas(std::string_view schema) {
    return "DELETE FROM " + table(schema, "_sfbridge_replicas") +
           " WHERE heartbeat_at < now() - interval '1 day'";
}

} // namespace sfbridge::bridge::leadership_sql
