#include "bridge/state_sql.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <set>

namespace sql = sfbridge::bridge::state_sql;

namespace {
// The highest $n a statement refers to.
int parameters(const std::string& text) {
    int most = 0;
    std::regex re(R"(\$(\d+))");
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it)
        most = std::max(most, std::stoi((*it)[1]));
    return most;
}
bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}
} // namespace

TEST_CASE("state SQL names its tables in the schema and takes values as parameters",
          "[unit][state_sql]") {
    const std::string s = "sf_app";
    CHECK(has(sql::upsert_state(s), R"(INSERT INTO "sf_app"."_sfbridge_state")"));
    CHECK(parameters(sql::upsert_state(s)) == 8);
    CHECK(has(sql::upsert_state(s), "WHEN $5::boolean THEN 'reload'"));
    CHECK(parameters(sql::forget_replay_id(s)) == 1);
    // Read back after a session was replaced: every mapping, positions in epoch milliseconds.
    CHECK(parameters(sql::positions(s)) == 0);
    CHECK(has(sql::positions(s), R"(SELECT object_name, replay_id, (extract(epoch from )"
                                 R"(poll_high_water) * 1000)::bigint)"));
    CHECK(has(sql::positions(s), R"(FROM "sf_app"."_sfbridge_state")"));
    CHECK(parameters(sql::mark_loading(s)) == 2);
    CHECK(has(sql::mark_loaded(s), "poll_high_water = $2::timestamp, deleted_high_water = $2"));
    CHECK(parameters(sql::reload_requests(s)) == 0);
    CHECK(has(sql::request_reload(s), "lower(object_name) = lower($1)"));
    CHECK(parameters(sql::insert_error(s)) == 7);
    // A record's issue once: not again when the same message about the same sfid is there,
    // unless that one was resolved (the record went in, then a later version was refused).
    CHECK(has(sql::insert_error(s), "WHERE CASE WHEN $6::text IS NULL THEN $2::text <> 'schema' "
                                    "OR NOT EXISTS"));
    CHECK(has(sql::insert_error(s),
              "sfid = $6::text AND message = $4::text AND resolved_at IS NULL"));
    CHECK(parameters(sql::refused_sfids(s)) == 3);
    CHECK(has(sql::refused_sfids(s), "WHERE object_name = $1 AND retry AND resolved_at IS NULL"));
    CHECK(parameters(sql::resolve_refused(s)) == 2);
    CHECK(has(sql::resolve_refused(s), "SET resolved_at = now()"));
    CHECK(has(sql::insert_error(s), R"("sf_app"."_sfbridge_errors")"));
    // Records the write-back adopted, read again: queued once each, per table, oldest first.
    CHECK(parameters(sql::queue_reread(s)) == 2);
    CHECK(has(sql::queue_reread(s), R"(INSERT INTO "sf_app"."_sfbridge_reread")"));
    CHECK(has(sql::queue_reread(s), "ON CONFLICT DO NOTHING"));
    CHECK(parameters(sql::reread_sfids(s)) == 2);
    CHECK(has(sql::reread_sfids(s), "WHERE table_name = $1 ORDER BY queued_at, sfid LIMIT $2"));
    CHECK(parameters(sql::forget_reread(s)) == 2);
    CHECK(has(sql::forget_reread(s), "WHERE table_name = $1 AND sfid = ANY($2::text[])"));
    CHECK(parameters(sql::insert_seen(s)) == 2);
    CHECK(has(sql::clear_seen(s), R"("sf_app"."_sfbridge_seen")"));
    CHECK(parameters(sql::prune_tombstones(s)) == 2);
    CHECK(parameters(sql::prune_errors(s)) == 2);
    // Refusals still to be retried are kept past the retention.
    CHECK(has(sql::prune_errors(s), "AND (NOT retry OR resolved_at IS NOT NULL)"));
    CHECK(parameters(sql::prune_conflicts(s)) == 2);
    CHECK(parameters(sql::prune_archive(s, "contact")) == 3);
    CHECK(has(sql::prune_archive(s, "contact"),
              "WHERE a.table_name = $1 AND a.created_at < now() - make_interval(secs => "
              "$2::double precision) AND NOT (a.action = 'INSERT' AND EXISTS (SELECT 1 FROM "
              "\"sf_app\".\"contact\" m WHERE m.id = a.record_id)) LIMIT $3"));
    CHECK(parameters(sql::insert_conflicts(s)) == 9);
    CHECK(has(sql::status(s), R"(FROM "sf_app"."_sfbridge_state" s ORDER BY object_name)"));
}

TEST_CASE("state SQL quotes every identifier", "[unit][state_sql]") {
    CHECK(sql::table_is_empty("salesforce", "contact") ==
          R"(SELECT NOT EXISTS (SELECT 1 FROM "salesforce"."contact"))");
    CHECK(has(sql::count_rows("salesforce", "Odd\"Name"), R"("salesforce"."Odd""Name")"));
    CHECK(sql::analyze("salesforce", "select") == R"(ANALYZE "salesforce"."select")");
    const auto del = sql::delete_unseen("salesforce", "account");
    CHECK(has(del, R"(DELETE FROM "salesforce"."account" WHERE ctid = ANY(ARRAY(SELECT u.ctid )"
                   R"(FROM "salesforce"."account" u WHERE u.sfid IS NOT NULL)"));
    CHECK(has(del, "LIMIT $3))")); // a chunk at a time
    CHECK(parameters(del) == 3);
    // Soft deletes: the same rows, marked rather than removed, once.
    const auto soft = sql::delete_unseen("salesforce", "account", true);
    CHECK(has(soft, R"(UPDATE "salesforce"."account" SET isdeleted = true, )"
                    R"("sfbridge_deleted_at" = $2::timestamp)"));
    CHECK(has(soft, "u.isdeleted IS NOT TRUE LIMIT $3))"));
    CHECK(parameters(soft) == 3);
}

TEST_CASE("the mapping lock is one key for the stream, loads and the write-back",
          "[unit][state_sql]") {
    CHECK(sql::writer_lock_name("salesforce", "Contact") == "sfbridge:salesforce:Contact");
    CHECK(sql::mapping_lock_key("salesforce", "Contact") ==
          "hashtext('sfbridge:salesforce:Contact')");
    CHECK(sql::mapping_lock_key("s", "O'Brien__c") == "hashtext('sfbridge:s:O''Brien__c')");
}

TEST_CASE("failed-write filters number their parameters in order", "[unit][state_sql]") {
    CHECK_FALSE(has(sql::failed_writes("s", false, false), "$"));
    CHECK(has(sql::failed_writes("s", true, false), "table_name = $1"));
    CHECK(has(sql::failed_writes("s", false, true), "id = $1::integer"));
    const auto both = sql::retry_failed_writes("s", true, true);
    CHECK(has(both, "table_name = $1 AND id = $2::integer"));
    CHECK(has(both, "SET state = 'NEW'"));
    CHECK(has(both, "WHERE state = 'FAILED'"));
    // Both tables: the archive's failed writes are listed, and requeued as Heroku Connect's
    // tools do (a copy back as NEW, the archived entry REQUEUED).
    CHECK(has(sql::failed_writes("s", true, false),
              R"(FROM "s"."_trigger_log_archive" WHERE state = 'FAILED' AND table_name = $1)"));
    CHECK(has(both, R"(UPDATE "s"."_trigger_log_archive" SET state = 'REQUEUED')"));
    CHECK(has(both, R"(INSERT INTO "s"."_trigger_log" (action, table_name, txid, created_at)"));
    CHECK(has(both, "SELECT (SELECT count(*) FROM reset) + (SELECT count(*) FROM copied)"));
    // In bulk, the trigger log's only: the archive's are requeued one by one, by id.
    CHECK_FALSE(has(sql::retry_failed_writes("s", true, false), "_trigger_log_archive"));
    CHECK(has(sql::retry_failed_writes("s", true, false), "SET state = 'NEW'"));
}
