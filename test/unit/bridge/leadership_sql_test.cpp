#include "bridge/leadership_sql.hpp"
#include "bridge/state_sql.hpp"

#include <catch2/catch.hpp>

namespace sql = sfbridge::bridge::leadership_sql;
namespace state = sfbridge::bridge::state_sql;

namespace {
bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}
} // namespace

TEST_CASE("the fence, the take and the write-back's lock name one writer lock per schema and "
          "object",
          "[unit][bridge]") {
    // The write-back's lock over its creates: hashtext('sfbridge:<schema>:<object>').
    CHECK(state::mapping_lock_key("crm", "Contact") == "hashtext('sfbridge:crm:Contact')");
    // The fence function and the take build the same text from the object in a parameter.
    const auto setup = sql::setup("crm");
    CHECK(has(setup, "pg_advisory_xact_lock(pg_catalog.hashtext('sfbridge:crm:' || p_object))"));
    CHECK(has(setup,
              "pg_advisory_xact_lock_shared(pg_catalog.hashtext('sfbridge:crm:' || p_object))"));
    CHECK(has(setup, "USING ERRCODE = 'SB001'"));
    CHECK(sql::take_writer_lock("crm") ==
          "SELECT pg_advisory_xact_lock(pg_catalog.hashtext('sfbridge:crm:' || $1))");
    CHECK(has(sql::end_writer_lock_holders("crm"), "pg_catalog.hashtext('sfbridge:crm:' || $1)"));
    // Another schema's deployment never meets this one's locks.
    CHECK_FALSE(has(sql::setup("other"), "'sfbridge:crm:'"));
}

TEST_CASE("the lead lock is the two-key form, apart from every writer lock", "[unit][bridge]") {
    CHECK(sql::try_lock() ==
          "SELECT pg_try_advisory_lock(hashtext('sfbridge-lead:' || $1), hashtext($2))");
    CHECK(sql::unlock() ==
          "SELECT pg_advisory_unlock(hashtext('sfbridge-lead:' || $1), hashtext($2))");
    CHECK(sql::fence("crm") == R"(SELECT "crm"."_sfbridge_lead"($1, $2::bigint, false))");
    CHECK(sql::shared_fence("crm") == R"(SELECT "crm"."_sfbridge_lead"($1, $2::bigint, true))");
}

TEST_CASE("sessions are named so that a replica's write-back can be told from its lock session",
          "[unit][bridge]") {
    CHECK(sql::lock_session_name("pod-1-abc123") == "sfbridge-lock pod-1-abc123");
    CHECK(sql::writeback_session_name("pod-1-abc123") == "sfbridge-writeback pod-1-abc123");
    // Ended only where no lock session of the same replica is connected, in this database.
    const auto orphans = sql::end_orphaned_writebacks();
    CHECK(has(orphans, "a.application_name LIKE 'sfbridge-writeback %'"));
    CHECK(has(orphans, "'sfbridge-lock ' || substr(a.application_name, 20)"));
    CHECK(has(orphans, "a.datname = current_database()"));
}
