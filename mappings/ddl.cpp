#include "mappings/ddl.hpp"

#include "mappings/types.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace sfbridge::mappings::ddl {

namespace {
// All of sfbridge's DDL takes this lock (transaction-scoped), so concurrent runs serialize.
constexpr std::string_view lock_statement =
    "SELECT pg_advisory_xact_lock(hashtext('sfbridge.ddl'));\n";

std::string qualified(std::string_view schema, std::string_view name) {
    return quote_identifier(schema) + "." + quote_identifier(name);
}

void trigger_log_table(std::string& s, std::string_view schema, std::string_view name,
                       bool archive) {
    const std::string t = qualified(schema, name);
    s += "CREATE TABLE IF NOT EXISTS " + t + " (\n";
    if (archive)
        s += "    id integer NOT NULL,\n";
    else
        s += "    id serial NOT NULL,\n";
    s += "    txid bigint,\n";
    if (archive)
        s += "    created_at timestamp with time zone,\n"
             "    updated_at timestamp with time zone,\n";
    else
        s += "    created_at timestamp with time zone DEFAULT now(),\n"
             "    updated_at timestamp with time zone DEFAULT now(),\n";
    s += "    processed_at timestamp with time zone,\n"
         "    processed_tx bigint,\n"
         "    state character varying(8),\n"
         "    action character varying(7),\n"
         "    table_name character varying(128),\n"
         "    record_id integer,\n"
         "    sfid character varying(18),\n"
         "    old text,\n"
         "    \"values\" text,\n"
         "    sf_result integer,\n"
         "    sf_message text,\n"
         "    CONSTRAINT " +
         quote_identifier(pg_identifier(std::string(name) + "_pkey")) + " PRIMARY KEY (id)\n);\n";
}

void index(std::string& s, std::string_view schema, std::string_view table,
           std::string_view index_name, std::string_view columns, std::string_view where = {},
           bool unique = false) {
    // Only when missing: CREATE INDEX IF NOT EXISTS takes its SHARE lock on the table before it
    // looks, which waits for the app's open writes and holds back the next ones, at every start
    // of every replica.
    s += "DO $sfbridge_index$ BEGIN IF to_regclass(" +
         quote_literal(quote_identifier(schema) + "." + quote_identifier(index_name)) +
         ") IS NULL THEN ";
    s += unique ? "CREATE UNIQUE INDEX IF NOT EXISTS " : "CREATE INDEX IF NOT EXISTS ";
    s += quote_identifier(index_name);
    s += " ON " + qualified(schema, table) + " (" + std::string(columns) + ")";
    if (!where.empty())
        s += " WHERE " + std::string(where);
    s += "; END IF; END $sfbridge_index$;\n";
}

// (Re)creates a trigger: the same statement pair whether the table is new or adopted from
// Heroku Connect, whose trigger has the same name and behaviour. Only when it is not already
// this definition (a comment on the trigger carries a hash of it): DROP TRIGGER locks the table
// against the app's writes, and every start of every replica runs this.
void trigger(std::string& s, std::string_view name, const std::string& table,
             std::string_view spec) {
    std::uint64_t h = 0xcbf29ce484222325ULL; // FNV-1a: fixed across builds
    for (const unsigned char c : std::string(name) + "\n" + std::string(spec))
        h = (h ^ c) * 0x100000001b3ULL;
    char tag[32];
    std::snprintf(tag, sizeof tag, "sfbridge %016llx", static_cast<unsigned long long>(h));
    const std::string n = quote_identifier(name);
    s += "DO $sfbridge_trigger$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = " +
         quote_literal(table) + "::regclass AND tgname = " + quote_literal(name) +
         " AND obj_description(oid, 'pg_trigger') = " + quote_literal(tag) +
         ") THEN DROP TRIGGER IF EXISTS " + n + " ON " + table + "; CREATE TRIGGER " + n + " " +
         std::string(spec) + "; COMMENT ON TRIGGER " + n + " ON " + table + " IS " +
         quote_literal(tag) + "; END IF; END $sfbridge_trigger$;\n";
}
} // namespace

bool is_valid_schema_name(std::string_view schema) noexcept {
    if (schema.empty() || schema.size() > 63)
        return false;
    for (std::size_t i = 0; i < schema.size(); ++i) {
        const char c = schema[i];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        const bool digit = c >= '0' && c <= '9';
        if (!letter && !(digit && i > 0))
            return false;
    }
    return true;
}

std::string quote_literal(std::string_view value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'')
            out += '\'';
        out += c;
    }
    out += '\'';
    return out;
}

std::string status_trigger_name(std::string_view table) {
    return pg_identifier("hc_" + std::string(table) + "_status_trigger");
}

std::string log_trigger_name(std::string_view table) {
    return pg_identifier("hc_" + std::string(table) + "_logtrigger");
}

std::string trigger_log_channel(std::string_view schema) {
    return std::string(schema) + ".hc_trigger_log";
}

std::string setup_schema(std::string_view schema) {
    const std::string qs = quote_identifier(schema);
    std::string s = "BEGIN;\n";
    s += lock_statement;
    s += "CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA public;\n";
    // The GUC trick of heroku-connect.md 1.7: ordinary sessions have xmlbinary = base64 (the
    // default), sfbridge's own sessions set hex, and the triggers only log the former.
    // Heroku Connect's body reads pg_settings, a view that builds every setting on each call:
    // about 0.4 ms, twice per row written (status trigger and log trigger condition), which
    // capped sfbridge's own writes near 1,000 rows/s. current_setting() returns the same text
    // in microseconds, so the function keeps its name, signature and meaning.
    s += "CREATE OR REPLACE FUNCTION public.get_xmlbinary() RETURNS character varying\n"
         "    LANGUAGE sql STABLE AS $$ SELECT current_setting('xmlbinary')::character varying "
         "$$;\n";
    s += "CREATE SCHEMA IF NOT EXISTS " + qs + ";\n";
    trigger_log_table(s, schema, "_trigger_log", false);
    trigger_log_table(s, schema, "_trigger_log_archive", true);
    index(s, schema, "_trigger_log", "_trigger_log_idx_created_at", "created_at");
    index(s, schema, "_trigger_log", "_trigger_log_idx_state_id", "state, id");
    index(s, schema, "_trigger_log", "_trigger_log_idx_state_table_name", "state, table_name",
          "state::text = 'NEW'::text OR state::text = 'PENDING'::text");
    index(s, schema, "_trigger_log_archive", "_trigger_log_archive_idx_created_at", "created_at");
    index(s, schema, "_trigger_log_archive", "_trigger_log_archive_idx_record_id", "record_id");
    // Conflict detection reads the app's applied updates of a record by its sfid as well, from
    // the archive too (processed entries move there within a minute).
    index(s, schema, "_trigger_log_archive", "_sfbridge_trigger_log_archive_idx_sfid", "sfid");
    index(s, schema, "_trigger_log_archive", "_trigger_log_archive_idx_state_table_name",
          "state, table_name", "state::text = 'FAILED'::text");

    const std::string tlog = qualified(schema, "_trigger_log");
    s += "CREATE OR REPLACE FUNCTION " + qualified(schema, "tlog_notify_trigger") +
         "() RETURNS trigger\n"
         "    LANGUAGE plpgsql AS $$\n"
         "    -- VERSION 1 --\n"
         "    BEGIN\n"
         "        PERFORM pg_notify(" +
         quote_literal(trigger_log_channel(schema)) +
         ", 'ping');\n"
         "        RETURN new;\n"
         "    END;\n"
         "$$;\n";
    trigger(s, "tlog_insert_trigger", tlog,
            "AFTER INSERT ON " + tlog + " FOR EACH ROW EXECUTE PROCEDURE " +
                qualified(schema, "tlog_notify_trigger") + "()");
    // Requeues by the app's tools (django-heroku-connect's redo(), `sfbridge retry`, a cron's
    // UPDATE ... SET state = 'NEW'): an UPDATE fires no insert trigger, so these of sfbridge's
    // own wake the write-back as an insert does. REQUEUE, the state such tools may set to ask
    // for a resend, is taken as NEW, the one state sfbridge sends.
    s += "CREATE OR REPLACE FUNCTION " + qualified(schema, "sfbridge_tlog_requeue") +
         "() RETURNS trigger\n"
         "    LANGUAGE plpgsql AS $$\n"
         "    BEGIN\n"
         "        NEW.state = 'NEW';\n"
         "        RETURN NEW;\n"
         "    END;\n"
         "$$;\n";
    trigger(s, "sfbridge_tlog_requeue_trigger", tlog,
            "BEFORE INSERT OR UPDATE OF state ON " + tlog +
                " FOR EACH ROW WHEN (NEW.state = 'REQUEUE') EXECUTE PROCEDURE " +
                qualified(schema, "sfbridge_tlog_requeue") + "()");
    trigger(s, "sfbridge_tlog_requeued_trigger", tlog,
            "AFTER UPDATE OF state ON " + tlog +
                " FOR EACH ROW WHEN (NEW.state = 'NEW' AND OLD.state IS DISTINCT FROM 'NEW') "
                "EXECUTE PROCEDURE " +
                qualified(schema, "tlog_notify_trigger") + "()");

    // The capture helpers Heroku Connect's documentation tells users to retry writes with.
    s += "CREATE OR REPLACE FUNCTION " + qualified(schema, "hc_capture_insert_from_row") +
         "(source_row hstore, table_name character varying, excluded_cols text[] DEFAULT "
         "ARRAY[]::text[]) RETURNS integer\n"
         "    LANGUAGE plpgsql AS $$\n"
         "    -- VERSION 1 --\n"
         "    DECLARE\n"
         "        excluded_cols_standard text[] = ARRAY['_hc_lastop', '_hc_err']::text[];\n"
         "        retval integer;\n"
         "    BEGIN\n"
         "        IF (source_row -> 'id') IS NULL THEN\n"
         "            RETURN NULL;\n"
         "        END IF;\n"
         "        excluded_cols_standard := array_remove(array_remove(excluded_cols, 'id'), "
         "'sfid') || excluded_cols_standard;\n"
         "        INSERT INTO " +
         tlog +
         " (action, table_name, txid, created_at, state, record_id, \"values\")\n"
         "        VALUES ('INSERT', table_name, txid_current(), clock_timestamp(), 'NEW',\n"
         "                (source_row -> 'id')::integer, source_row - excluded_cols_standard)\n"
         "        RETURNING id INTO retval;\n"
         "        RETURN retval;\n"
         "    END;\n"
         "$$;\n";
    s += "CREATE OR REPLACE FUNCTION " + qualified(schema, "hc_capture_update_from_row") +
         "(source_row hstore, table_name character varying, columns_to_include text[] DEFAULT "
         "ARRAY[]::text[]) RETURNS integer\n"
         "    LANGUAGE plpgsql AS $$\n"
         "    -- VERSION 1 --\n"
         "    DECLARE\n"
         "        excluded_cols_standard text[] = ARRAY['_hc_lastop', '_hc_err']::text[];\n"
         "        record_id integer;\n"
         "        record_sfid varchar;\n"
         "        retval integer;\n"
         "    BEGIN\n"
         "        IF (source_row -> 'id') IS NULL THEN\n"
         "            RETURN NULL;\n"
         "        END IF;\n"
         "        record_id := (source_row -> 'id')::integer;\n"
         "        record_sfid := source_row -> 'sfid';\n"
         "        IF array_length(columns_to_include, 1) > 0 THEN\n"
         "            source_row := slice(source_row, columns_to_include);\n"
         "        END IF;\n"
         "        INSERT INTO " +
         tlog +
         " (action, table_name, txid, created_at, state, record_id, sfid, \"values\", old)\n"
         "        VALUES ('UPDATE', table_name, txid_current(), clock_timestamp(), 'NEW',\n"
         "                record_id, record_sfid, source_row - excluded_cols_standard, NULL)\n"
         "        RETURNING id INTO retval;\n"
         "        RETURN retval;\n"
         "    END;\n"
         "$$;\n";

    // Heroku Connect's bookkeeping tables (heroku-connect.md 1.9), created so that tools that
    // expect them find them; sfbridge does not write to them.
    s += "CREATE TABLE IF NOT EXISTS " + qualified(schema, "_hcmeta") +
         " (id serial PRIMARY KEY, hcver integer, org_id character varying(50), details text);\n";
    s += "CREATE TABLE IF NOT EXISTS " + qualified(schema, "_sf_event_log") +
         " (id serial PRIMARY KEY, table_name character varying(128), action character "
         "varying(7), synced_at timestamp with time zone DEFAULT now(), sf_timestamp timestamp "
         "with time zone, sfid character varying(20), record text, processed boolean);\n";

    // sfbridge's own state: one row per mapping. Each sync batch updates it in the same
    // transaction as the rows it applies, so a crash never separates data from position.
    s += "CREATE TABLE IF NOT EXISTS " + qualified(schema, "_sfbridge_state") +
         " (\n"
         "    object_name character varying(128) PRIMARY KEY,\n"
         "    table_name character varying(128) NOT NULL,\n"
         "    schema_version integer NOT NULL,\n"
         "    columns text NOT NULL DEFAULT '',\n"
         "    load_state character varying(16) NOT NULL DEFAULT 'new',\n"
         "    load_started_at timestamp without time zone,\n"
         "    load_finished_at timestamp without time zone,\n"
         "    channel text,\n"
         "    replay_id bigint,\n"
         "    poll_high_water timestamp without time zone,\n"
         "    deleted_high_water timestamp without time zone,\n"
         "    push_topic character varying(64),\n"
         "    fetch_on_notify boolean NOT NULL DEFAULT false,\n"
         "    last_event_at timestamp with time zone,\n"
         "    updated_at timestamp with time zone NOT NULL DEFAULT now()\n"
         ");\n";
    // A load that keeps failing is reported (sfbridge status) while the other mappings run, and
    // so is the last refresh of formula and roll-up fields (sfbridge_refresh_seconds).
    s +=
        "ALTER TABLE " + qualified(schema, "_sfbridge_state") +
        " ADD COLUMN IF NOT EXISTS load_attempts integer NOT NULL DEFAULT 0, ADD COLUMN IF NOT "
        "EXISTS load_error text, ADD COLUMN IF NOT EXISTS refreshed_at timestamp with time "
        "zone, ADD COLUMN IF NOT EXISTS refresh_records bigint, ADD COLUMN IF NOT EXISTS "
        "refresh_changed bigint, ADD COLUMN IF NOT EXISTS backfill_columns text, ADD COLUMN IF NOT "
        "EXISTS field_types text;\n";
    // Loops that ended sfbridge by an unexpected error (a programming error: the process exits
    // non-zero for its supervisor to restart it), one row per loop, for `sfbridge status`.
    // Requests to every running sfbridge on the schema: `sfbridge reload --schema-only` (each
    // process started before it starts again).
    s += "CREATE TABLE IF NOT EXISTS " + qualified(schema, "_sfbridge_commands") +
         " (command text PRIMARY KEY, requested_at timestamp with time zone NOT NULL DEFAULT "
         "now());\n";
    s += "CREATE TABLE IF NOT EXISTS " + qualified(schema, "_sfbridge_loops") +
         " (\n"
         "    loop text PRIMARY KEY,\n"
         "    deaths integer NOT NULL DEFAULT 1,\n"
         "    died_at timestamp with time zone NOT NULL DEFAULT now(),\n"
         "    error text NOT NULL,\n"
         "    pid integer,\n"
         "    restarted_at timestamp with time zone\n"
         ");\n";
    // Deletes seen from Salesforce, so that an older update arriving later (a replayed event, an
    // overlapping poll) cannot bring a deleted row back. Pruned after the replay retention.
    s += "CREATE TABLE IF NOT EXISTS " + qualified(schema, "_sfbridge_deleted") +
         " (\n"
         "    object_name character varying(128) NOT NULL,\n"
         "    sfid character varying(18) COLLATE \"ucs_basic\" NOT NULL,\n"
         "    systemmodstamp timestamp without time zone NOT NULL,\n"
         "    PRIMARY KEY (object_name, sfid)\n"
         ");\n";
    // Events and records sfbridge could not apply, kept for a person to look at.
    s += "CREATE TABLE IF NOT EXISTS " + qualified(schema, "_sfbridge_errors") +
         " (\n"
         "    id bigserial PRIMARY KEY,\n"
         "    created_at timestamp with time zone NOT NULL DEFAULT now(),\n"
         "    object_name character varying(128),\n"
         "    channel text,\n"
         "    replay_id bigint,\n"
         "    sfid character varying(18),\n"
         "    message text NOT NULL,\n"
         "    payload text,\n"
         "    retry boolean NOT NULL DEFAULT false,\n"
         "    resolved_at timestamp with time zone\n"
         ");\n";
    // Records Postgres refused are fetched again until they go in (bridge/refused_retry.hpp).
    s += "ALTER TABLE " + qualified(schema, "_sfbridge_errors") +
         " ADD COLUMN IF NOT EXISTS retry boolean NOT NULL DEFAULT false, ADD COLUMN IF NOT "
         "EXISTS resolved_at timestamp with time zone;\n";
    s += "CREATE INDEX IF NOT EXISTS _sfbridge_errors_sfid ON " +
         qualified(schema, "_sfbridge_errors") + " (object_name, sfid);\n";
    // Records the write-back adopted (a create whose answer was lost, found afterwards; the row
    // the inbound side made of its echo, replaced by the app's): changes Salesforce users made
    // to them in between landed on a row that is gone, and the poll has moved past them, so the
    // mapping's poller reads them again (bridge/refused_retry.hpp). Queued in the transaction
    // that adopts them.
    s += "CREATE TABLE IF NOT EXISTS " + qualified(schema, "_sfbridge_reread") +
         " (\n"
         "    table_name character varying(128) NOT NULL,\n"
         "    sfid character varying(18) COLLATE \"ucs_basic\" NOT NULL,\n"
         "    queued_at timestamp with time zone NOT NULL DEFAULT now(),\n"
         "    PRIMARY KEY (table_name, sfid)\n"
         ");\n";
    // The sfids a reload has seen so far (rows not seen are removed at its end).
    s += "CREATE UNLOGGED TABLE IF NOT EXISTS " + qualified(schema, "_sfbridge_seen") +
         " (\n"
         "    object_name character varying(128) NOT NULL,\n"
         "    sfid character varying(18) COLLATE \"ucs_basic\" NOT NULL\n"
         ");\n";
    // Conflicts between an app's write and a Salesforce change to the same field of the same
    // record: the later one wins, and the value that lost is kept here.
    s += "CREATE TABLE IF NOT EXISTS " + qualified(schema, "_sfbridge_conflicts") +
         " (\n"
         "    id bigserial PRIMARY KEY,\n"
         "    detected_at timestamp with time zone NOT NULL DEFAULT now(),\n"
         "    object_name character varying(128) NOT NULL,\n"
         "    table_name character varying(128) NOT NULL,\n"
         "    record_id integer,\n"
         "    sfid character varying(18),\n"
         "    trigger_log_id integer,\n"
         "    field text NOT NULL,\n"
         "    winner character varying(10) NOT NULL, -- salesforce or postgres\n"
         "    kept_value text,\n"
         "    lost_value text\n"
         ");\n";
    s += "CREATE INDEX IF NOT EXISTS _sfbridge_conflicts_log ON " +
         qualified(schema, "_sfbridge_conflicts") + " (trigger_log_id);\n";
    s += "COMMIT;\n";
    return s;
}

std::vector<std::pair<std::string, std::string>> mapped_columns(const resolved_mapping& m) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& f : m.fields)
        out.emplace_back(f.column, f.pg_type);
    for (const auto& r : m.references)
        out.emplace_back(r.column, "character varying(255)");
    if (m.soft_deletes())
        out.emplace_back(deleted_at_column, "timestamp without time zone");
    return out;
}

std::string ensure_table(std::string_view schema, const resolved_mapping& m,
                         const std::vector<std::string>& existing_columns) {
    const std::string table = qualified(schema, m.table);
    std::string s = "BEGIN;\n";
    s += lock_statement;
    if (existing_columns.empty()) {
        // Heroku Connect's column order: the mapped fields, then sfid, id, _hc_lastop, _hc_err.
        s += "CREATE TABLE IF NOT EXISTS " + table + " (\n";
        for (const auto& [column, type] : mapped_columns(m))
            if (column != "sfid")
                s += "    " + quote_identifier(column) + " " + type + ",\n";
        s += "    sfid character varying(18) COLLATE \"ucs_basic\",\n"
             "    id serial NOT NULL,\n"
             "    _hc_lastop character varying(32),\n"
             "    _hc_err text,\n"
             "    CONSTRAINT " +
             quote_identifier(pg_identifier(m.table + "_pkey")) + " PRIMARY KEY (id)\n);\n";
    } else {
        auto has = [&](const std::string& c) {
            return std::find(existing_columns.begin(), existing_columns.end(), c) !=
                   existing_columns.end();
        };
        for (const auto& [column, type] : mapped_columns(m))
            if (!has(column))
                s += "ALTER TABLE " + table + " ADD COLUMN " + quote_identifier(column) + " " +
                     type + ";\n";
        for (std::string_view sys : {"_hc_lastop", "_hc_err"})
            if (!has(std::string(sys)))
                s += "ALTER TABLE " + table + " ADD COLUMN " + std::string(sys) +
                     (sys == "_hc_lastop" ? " character varying(32);\n" : " text;\n");
    }
    for (const auto& i : m.indexes)
        index(s, schema, m.table,
              pg_identifier((i.unique ? "hcu_idx_" : "hc_idx_") + m.table + "_" + i.column),
              quote_identifier(i.column), {}, i.unique);

    const std::string status_fn = qualified(schema, pg_identifier("hc_" + m.table + "_status"));
    const std::string logger_fn = qualified(schema, pg_identifier("hc_" + m.table + "_logger"));
    // The columns sfbridge owns keep their values through an app's UPDATE: an ORM that saves
    // every column writes back the sfid and system fields it read before sfbridge filled them
    // in (NULL), which would orphan the row (the next poll inserts a second one). Restored here,
    // before the logging trigger, so the change is neither logged nor sent.
    std::string owned = "            IF (TG_OP = 'UPDATE') THEN\n"
                        "                IF (OLD.sfid IS NOT NULL) THEN\n"
                        "                    NEW.sfid = OLD.sfid;\n"
                        "                END IF;\n";
    for (const char* name : {"SystemModstamp", "IsDeleted", "CreatedDate"})
        if (const auto* f = m.field(name))
            owned += "                NEW." + quote_identifier(f->column) + " = OLD." +
                     quote_identifier(f->column) + ";\n";
    owned += "            END IF;\n";
    s += "CREATE OR REPLACE FUNCTION " + status_fn +
         "() RETURNS trigger\n"
         "    LANGUAGE plpgsql AS $$\n"
         "    BEGIN\n"
         "        IF (get_xmlbinary()::text = 'base64') THEN -- user op\n" +
         owned +
         "            NEW._hc_lastop = 'PENDING';\n"
         "            NEW._hc_err = NULL;\n"
         "            RETURN NEW;\n"
         "        ELSE -- connect op\n"
         "            IF (TG_OP = 'UPDATE' AND NEW._hc_lastop IS NOT NULL AND NEW._hc_lastop != "
         "OLD._hc_lastop) THEN\n"
         "                RETURN NEW;\n"
         "            END IF;\n"
         "            NEW._hc_lastop = 'SYNCED';\n"
         "            NEW._hc_err = NULL;\n"
         "            RETURN NEW;\n"
         "        END IF;\n"
         "    END;\n"
         "$$;\n";
    const std::string logged_state = m.read_write() ? "NEW" : "READONLY";
    s += "CREATE OR REPLACE FUNCTION " + logger_fn +
         "() RETURNS trigger\n"
         "    LANGUAGE plpgsql AS $$\n"
         "    -- VERSION 4 --\n"
         "    DECLARE\n"
         "        trigger_row " +
         qualified(schema, "_trigger_log") +
         ";\n"
         "        excluded_cols text[] = ARRAY['_hc_lastop', '_hc_err']::text[];\n"
         "    BEGIN\n"
         "        trigger_row = ROW();\n"
         "        trigger_row.id = nextval(" +
         quote_literal(qualified(schema, "_trigger_log_id_seq")) +
         ");\n"
         "        trigger_row.action = TG_OP::text;\n"
         "        trigger_row.table_name = TG_TABLE_NAME::text;\n"
         "        trigger_row.txid = txid_current();\n"
         "        trigger_row.created_at = clock_timestamp();\n"
         "        trigger_row.state = '" +
         logged_state +
         "';\n"
         "        IF (TG_OP = 'DELETE') THEN\n"
         "            trigger_row.record_id = OLD.id;\n"
         "            trigger_row.old = hstore(OLD.*) - excluded_cols;\n"
         "            IF (OLD.sfid IS NOT NULL) THEN\n"
         "                trigger_row.sfid = OLD.sfid;\n";
    if (m.read_write())
        s += "            ELSE\n"
             "                trigger_row.state = 'IGNORE';\n";
    s += "            END IF;\n"
         "        ELSEIF (TG_OP = 'INSERT') THEN\n"
         "            trigger_row.record_id = NEW.id;\n"
         "            trigger_row.values = hstore(NEW.*) - excluded_cols;\n"
         "        ELSEIF (TG_OP = 'UPDATE') THEN\n"
         "            trigger_row.record_id = NEW.id;\n"
         "            trigger_row.old = hstore(OLD.*) - excluded_cols;\n"
         "            trigger_row.values = (hstore(NEW.*) - hstore(trigger_row.old)) - "
         "excluded_cols;\n"
         "            trigger_row.sfid = OLD.sfid;\n";
    if (m.read_write())
        s += "            IF (trigger_row.values = '') THEN\n"
             "                trigger_row.state = 'IGNORE';\n"
             "            END IF;\n";
    s += "        END IF;\n"
         "        INSERT INTO " +
         qualified(schema, "_trigger_log") +
         " VALUES (trigger_row.*);\n"
         "        RETURN NULL;\n"
         "    END;\n"
         "$$;\n";
    trigger(s, status_trigger_name(m.table), table,
            "BEFORE INSERT OR UPDATE ON " + table + " FOR EACH ROW EXECUTE PROCEDURE " + status_fn +
                "()");
    trigger(s, log_trigger_name(m.table), table,
            "AFTER INSERT OR DELETE OR UPDATE ON " + table +
                " FOR EACH ROW WHEN ((public.get_xmlbinary()::text = 'base64'::text)) EXECUTE "
                "PROCEDURE " +
                logger_fn + "()");
    s += "COMMIT;\n";
    return s;
}

} // namespace sfbridge::mappings::ddl
