// Apps and libraries written for Heroku Connect (ORMs, django-heroku-connect) against sfbridge:
// what they do to the tables and the trigger log works as it did there.
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {
std::vector<std::string> contact_fields() {
    return {"LastName", "Title"};
}
} // namespace

// An ORM keeps the instance it created and saves every column of it later, including the sfid
// and system fields it read before sfbridge filled them in (NULL).
TEST_CASE("an ORM's stale save of a synced row keeps its sfid and sends only the real change",
          "[bridge][writeback][drop-in]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Title", true)));
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('Kept by an ORM')");
            // Synced, its echo in the row (the system fields filled in).
            bool ok = co_await eventually(
                app, "SELECT (sfid IS NOT NULL AND systemmodstamp IS NOT NULL)::text FROM " + t,
                "true");
            REQUIRE(ok);
            auto before = co_await must_query(app, "SELECT sfid FROM " + t);
            const std::string sfid(before.value(0, 0));
            co_await must_exec(app, "UPDATE " + t +
                                        " SET sfid = NULL, systemmodstamp = NULL, isdeleted = "
                                        "NULL, lastname = 'Kept by an ORM', title = 'After'");
            // One row, still holding its record and system fields (not the NULLs written; their
            // values may move on with the echo); Salesforce has the title.
            auto after = co_await must_query(
                app, "SELECT sfid, (systemmodstamp IS NOT NULL)::text, isdeleted::text FROM " + t);
            REQUIRE(after.rows() == 1);
            CHECK(after.value(0, 0) == sfid);
            CHECK(after.value(0, 1) == "true");
            CHECK(after.value(0, 2) == "false");
            ok = co_await eventually(app,
                                     "SELECT count(*)::text FROM " + h.schema +
                                         "._trigger_log WHERE state = 'SUCCESS'",
                                     "2");
            CHECK(ok);
            auto sent = co_await must_query(app, "SELECT \"values\" FROM " + h.schema +
                                                     "._trigger_log WHERE action = 'UPDATE'");
            REQUIRE(sent.rows() == 1);
            CHECK(sent.value(0, 0) == "\"title\"=>\"After\"");
            const std::string want = "LastName=Kept by an ORM|Title=After|";
            const auto rec =
                co_await sim_record_becomes(h, "Contact", contact_fields(), sfid, want);
            CHECK(rec == want);
            // The echo and the next polls find the row: no second row for the record.
            const auto converged_now = co_await converged(h, app, "Contact", "Title");
            CHECK(converged_now);
            auto rows = co_await must_query(app, "SELECT count(*)::text FROM " + t);
            CHECK(rows.value(0, 0) == "1");
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

// django-heroku-connect's redo() and the scripts people run set a FAILED entry back to NEW (or
// to REQUEUE) with an UPDATE, which fires no insert trigger. The sweep is ten minutes here: only
// the NOTIFY of the requeue can bring the entry back in the test's time.
TEST_CASE("a requeued entry (state set to NEW or REQUEUE) is sent at once",
          "[bridge][writeback][drop-in]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            co_await h.send(
                http::verb::put, "/__sim/validation-rules",
                R"([{"object":"Contact","field":"LastName","equals":"Refused","message":"No."}])");
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName", true)));
            cfg.writeback_sweep = std::chrono::minutes(10);
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('Refused')");
            bool ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'FAILED'", "1", 60);
            REQUIRE(ok);
            co_await h.send(http::verb::put, "/__sim/validation-rules", "[]");
            co_await must_exec(app, "UPDATE " + log + " SET state = 'REQUEUE'");
            ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + t + " WHERE sfid IS NOT NULL", "1", 60);
            CHECK(ok);
            auto states = co_await must_query(app, "SELECT string_agg(state, ',') FROM " + log);
            CHECK(states.value(0, 0) == "SUCCESS");
            // And set back to NEW, as redo() does: an update of the row that fails, then passes.
            co_await h.send(
                http::verb::put, "/__sim/validation-rules",
                R"([{"object":"Contact","field":"LastName","equals":"Refused again","message":"No."}])");
            co_await must_exec(app, "UPDATE " + t + " SET lastname = 'Refused again'");
            ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'FAILED'", "1", 60);
            REQUIRE(ok);
            co_await h.send(http::verb::put, "/__sim/validation-rules", "[]");
            co_await must_exec(app, "UPDATE " + log + " SET state = 'NEW' WHERE state = 'FAILED'");
            ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'SUCCESS'", "2", 60);
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

namespace {
// A row whose INSERT Salesforce refused, fixed by the app with two UPDATEs in one transaction:
// sent as the row's insert with its current values, the updates merged into it.
void fixed_after_a_refused_insert(bridge::write_algorithm writes) {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            co_await h.send(
                http::verb::put, "/__sim/validation-rules",
                R"([{"object":"Contact","field":"LastName","equals":"Unfinished","message":"Finish the name."}])");
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Title", true)));
            cfg.writes = writes;
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('Unfinished')");
            bool ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'FAILED'", "1", 60);
            REQUIRE(ok);
            co_await must_exec(app, "BEGIN; UPDATE " + t + " SET title = 'Chief'; UPDATE " + t +
                                        " SET lastname = 'Finished'; COMMIT");
            ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + t + " WHERE sfid IS NOT NULL", "1", 60);
            REQUIRE(ok);
            auto row = co_await must_query(app, "SELECT sfid, _hc_lastop FROM " + t);
            const std::string sfid(row.value(0, 0));
            CHECK((row.value(0, 1) == "INSERTED" || row.value(0, 1) == "SYNCED")); // (its echo)
            auto records = co_await sim_rows(h, "Contact", contact_fields());
            CHECK(records.size() == 1);
            CHECK(records[sfid] == "LastName=Finished|Title=Chief|");
            // The refused INSERT stays FAILED; the updates are the insert (SUCCESS, its sfid)
            // and merged into it, none failed with a code of sfbridge's own.
            auto states = co_await must_query(
                app, "SELECT string_agg(action || ':' || state || ':' || coalesce(sfid, ''), "
                     "',' ORDER BY id) FROM " +
                         log);
            CHECK(states.value(0, 0) == "INSERT:FAILED:,UPDATE:MERGED:,UPDATE:SUCCESS:" + sfid);
            // The refused INSERT requeued now (a retry of every failure) makes no second record:
            // the row has its record.
            co_await must_exec(app, "UPDATE " + log + " SET state = 'NEW' WHERE state = 'FAILED'");
            ok = co_await eventually(app, "SELECT state FROM " + log + " WHERE action = 'INSERT'",
                                     "IGNORE", 60);
            CHECK(ok);
            records = co_await sim_rows(h, "Contact", contact_fields());
            CHECK(records.size() == 1);
            auto still = co_await must_query(app, "SELECT sfid FROM " + t);
            CHECK(still.value(0, 0) == sfid);
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}
} // namespace

TEST_CASE("an update of a row whose insert was refused sends the insert with the row's values",
          "[bridge][writeback][drop-in]") {
    fixed_after_a_refused_insert(bridge::write_algorithm::ordered);
}

TEST_CASE("an update of a row whose insert was refused sends the insert, merged writes",
          "[bridge][writeback][drop-in]") {
    fixed_after_a_refused_insert(bridge::write_algorithm::merged);
}

// Heroku Connect's clients look for processed writes in _trigger_log_archive.
TEST_CASE("processed trigger-log entries move to the archive promptly, and later writes of the "
          "record still go",
          "[bridge][writeback][drop-in]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Title", true)));
            cfg.archive_after = std::chrono::seconds(1);
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('Archived')");
            co_await must_exec(app, "UPDATE " + t + " SET title = 'First'");
            bool ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + "_archive WHERE state = 'SUCCESS'", "2",
                60);
            CHECK(ok);
            ok = co_await eventually(app, "SELECT count(*)::text FROM " + log, "0", 60);
            CHECK(ok);
            // The record's echo of the app's writes, and its next write, with the history in
            // the archive: the title is the app's, no conflict.
            co_await must_exec(app, "UPDATE " + t + " SET title = 'Second'");
            auto row = co_await must_query(app, "SELECT sfid FROM " + t);
            const std::string sfid(row.value(0, 0));
            const std::string want = "LastName=Archived|Title=Second|";
            const auto rec =
                co_await sim_record_becomes(h, "Contact", contact_fields(), sfid, want);
            CHECK(rec == want);
            auto k = co_await must_query(app, "SELECT count(*)::text FROM " + h.schema +
                                                  "._sfbridge_conflicts");
            CHECK(k.value(0, 0) == "0");
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}
