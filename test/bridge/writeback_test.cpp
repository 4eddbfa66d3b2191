// Postgres to Salesforce: the app writes with plain SQL, sfbridge sends it to sfsim.
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {
// The record's fields in sfsim, "Field=value|..." (empty when there is no such live record).
asio::awaitable<std::string> sim_record(harness& h, const std::string& id,
                                        const std::vector<std::string>& fields) {
    auto rows = co_await sim_rows(h, "Contact", fields);
    auto it = rows.find(id);
    co_return it == rows.end() ? std::string() : it->second;
}

std::vector<std::string> contact_fields() {
    return {"LastName", "Email", "Title"};
}
} // namespace

TEST_CASE("inserts updates and deletes from SQL reach Salesforce and report back",
          "[bridge][writeback]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg =
                h.config(read_write(mapping_json("Contact", "Id,LastName,Email,Title", true)));
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            co_await must_exec(
                app, "INSERT INTO " + t +
                         " (lastname, email) VALUES ('Written in SQL', 'sql@example.com')");
            bool ok = co_await eventually(app, "SELECT (sfid IS NOT NULL)::text FROM " + t, "true");
            REQUIRE(ok);
            auto row = co_await must_query(
                app, "SELECT sfid, _hc_lastop, coalesce(_hc_err, '') FROM " + t);
            const std::string sfid(row.value(0, 0));
            CHECK((row.value(0, 1) == "INSERTED" || row.value(0, 1) == "SYNCED"));
            auto rec = co_await sim_record(h, sfid, contact_fields());
            CHECK(rec == "LastName=Written in SQL|Email=sql@example.com|Title=null|");
            auto log = co_await must_query(app, "SELECT state, sfid FROM " + h.schema +
                                                    "._trigger_log ORDER BY id");
            REQUIRE(log.rows() == 1);
            CHECK(log.value(0, 0) == "SUCCESS");
            CHECK(log.value(0, 1) == sfid);

            // Two updates of one record in one transaction: the later one wins.
            co_await must_exec(app,
                               "BEGIN; UPDATE " + t + " SET title = 'First'; UPDATE " + t +
                                   " SET title = 'Second', email = 'second@example.com'; COMMIT");
            for (int i = 0; i < 1200; ++i) { // a minute
                rec = co_await sim_record(h, sfid, contact_fields());
                if (rec.find("Title=Second") != std::string::npos)
                    break;
                co_await sleep_ms(50);
            }
            CHECK(rec == "LastName=Written in SQL|Email=second@example.com|Title=Second|");
            ok = co_await eventually(app,
                                     "SELECT count(*)::text FROM " + h.schema +
                                         "._trigger_log WHERE state <> 'SUCCESS'",
                                     "0");
            CHECK(ok);
            // Salesforce's echo of our own write does not flip the row back.
            co_await sleep_ms(500);
            auto title = co_await must_query(app, "SELECT title, email FROM " + t);
            CHECK(title.value(0, 0) == "Second");
            CHECK(title.value(0, 1) == "second@example.com");

            co_await must_exec(app, "DELETE FROM " + t);
            for (int i = 0; i < 1200 && !rec.empty(); ++i) { // a minute
                co_await sleep_ms(50);
                rec = co_await sim_record(h, sfid, contact_fields());
            }
            CHECK(rec.empty());
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("a validation rule fails only its record and the failure is recorded",
          "[bridge][writeback]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            co_await h.send(
                http::verb::put, "/__sim/validation-rules",
                R"([{"object":"Contact","field":"LastName","equals":"Reject me","message":"Not this one."}])");
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            co_await h.start(h.config(read_write(mapping_json("Contact", "Id,LastName", true))));
            const std::string t = h.schema + ".contact";
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (lastname) VALUES ('Fine 1'), ('Reject me'), ('Fine 2')");
            bool ok = co_await eventually(app,
                                          "SELECT count(*)::text FROM " + h.schema +
                                              "._trigger_log WHERE state IN ('NEW', 'PENDING')",
                                          "0");
            REQUIRE(ok);
            auto rows = co_await must_query(
                app,
                "SELECT lastname, _hc_lastop, coalesce(_hc_err, ''), (sfid IS NULL)::text FROM " +
                    t + " ORDER BY id");
            REQUIRE(rows.rows() == 3);
            CHECK(rows.value(1, 1) == "FAILED");
            CHECK(std::string(rows.value(1, 2)).find("FIELD_CUSTOM_VALIDATION_EXCEPTION") !=
                  std::string::npos);
            CHECK(std::string(rows.value(1, 2)).find("Not this one.") != std::string::npos);
            CHECK(rows.value(1, 3) == "true");
            CHECK(rows.value(0, 3) == "false");
            CHECK(rows.value(2, 3) == "false");
            auto failed = co_await must_query(app, "SELECT sf_message FROM " + h.schema +
                                                       "._trigger_log WHERE state = 'FAILED'");
            REQUIRE(failed.rows() == 1);
            CHECK(failed.value(0, 0) == "Not this one.");

            // Fixed and set back to NEW by hand (what `sfbridge retry` does): it goes through.
            co_await h.send(http::verb::put, "/__sim/validation-rules", "[]");
            co_await must_exec(app, "UPDATE " + h.schema +
                                        "._trigger_log SET state = 'NEW' WHERE state = 'FAILED'");
            co_await must_exec(app, "NOTIFY \"" + h.schema + ".hc_trigger_log\", 'ping'");
            ok = co_await eventually(app, "SELECT count(*)::text FROM " + t + " WHERE sfid IS NULL",
                                     "0");
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("10000 inserts go through with locked rows and an expired token on the way",
          "[bridge][writeback]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            co_await h.start(
                h.config(read_write(mapping_json("Contact", "Id,LastName,Email", true))));
            co_await h.send(http::verb::put, "/__sim/faults", R"({"lockShare":0.2})");
            co_await h.send(http::verb::post, "/__sim/faults/expire-tokens", "");
            const std::string t = h.schema + ".contact";
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (lastname, email) SELECT 'Bulk ' || i, 'b' || i || "
                                        "'@example.com' FROM generate_series(1, 10000) i");
            bool ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + t + " WHERE sfid IS NOT NULL", "10000", 120);
            CHECK(ok);
            co_await h.send(http::verb::put, "/__sim/faults", "{}");
            auto rows = co_await sim_rows(h, "Contact", fields_LastName());
            CHECK(rows.size() == 10000); // each once
            auto dup = co_await must_query(app, "SELECT count(*) FROM " + t);
            CHECK(dup.value(0, 0) == "10000"); // the echo of each create did not add a row
            co_await h.stop();
        }(),
        std::chrono::seconds(240));
}

TEST_CASE("writes queued before start (an adopted schema) and while Salesforce is down are sent",
          "[bridge][writeback]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName", true)));
            co_await h.start(cfg);
            co_await h.stop();
            const std::string t = h.schema + ".contact";
            // sfbridge is down: the triggers queue the app's writes.
            co_await must_exec(app,
                               "INSERT INTO " + t + " (lastname) VALUES ('Queued while down')");
            co_await h.start(cfg);
            // Salesforce goes down: the next write waits in the trigger log.
            co_await h.send(http::verb::put, "/__sim/faults", R"({"unavailable":true})");
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('Sent once back')");
            co_await sleep_ms(1000);
            auto pending =
                co_await must_query(app, "SELECT count(*) FROM " + t + " WHERE sfid IS NULL");
            CHECK(pending.value(0, 0) == "2");
            co_await h.send(http::verb::put, "/__sim/faults", "{}");
            bool ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + t + " WHERE sfid IS NULL", "0", 60);
            CHECK(ok);
            auto rows = co_await sim_rows(h, "Contact", fields_LastName());
            CHECK(rows.size() == 2);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

namespace {
// Sim_Everything__c (with its External_Id__c) and Sim_Child__c, whose Parent__c looks it up.
std::string parent_and_child_mappings() {
    return R"({"version":1,"mappings":[
      {"object_name":"Sim_Everything__c","config":{"access":"read_write","sf_notify_enabled":true,
       "sf_polling_seconds":600,"fields":{"Id":{},"Name":{},"External_Id__c":{}}}},
      {"object_name":"Sim_Child__c","config":{"access":"read_write","sf_notify_enabled":true,
       "sf_polling_seconds":600,
       "fields":{"Id":{},"Name":{},"Parent__c":{},"Parent__r__External_Id__c":{}}}}]})";
}

std::vector<std::string> fields_Name_Parent() {
    return {"Name", "Parent__c"};
}
} // namespace

TEST_CASE("a child inserted with its parent's external id in one transaction gets its lookup",
          "[bridge][writeback]") {
    harness h([](sim::simulator_config& c) {
        c.schema_files.push_back(std::string(SFBRIDGE_FIXTURES_DIR) + "/sim/Sim_Child__c.json");
    });
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            co_await h.start(h.config(parent_and_child_mappings()));
            const std::string parent = h.schema + ".sim_everything__c";
            const std::string kid = h.schema + ".sim_child__c";
            // The child is written first in the transaction and its table sorts first: the
            // parent must still be created before it.
            co_await must_exec(app, "BEGIN; INSERT INTO " + kid +
                                        " (name, parent__r__external_id__c) VALUES ('Kid', "
                                        "'P-1'), ('Orphan', 'NO-SUCH-PARENT'); INSERT INTO " +
                                        parent +
                                        " (name, external_id__c) VALUES ('Parent', 'P-1'); COMMIT");
            bool ok = co_await eventually(app,
                                          "SELECT count(*)::text FROM " + h.schema +
                                              "._trigger_log WHERE state IN ('NEW', 'PENDING')",
                                          "0");
            REQUIRE(ok);
            auto p = co_await must_query(app, "SELECT sfid FROM " + parent);
            REQUIRE(p.rows() == 1);
            REQUIRE_FALSE(p.is_null(0, 0));
            const std::string parent_id(p.value(0, 0));
            auto kids = co_await sim_rows(h, "Sim_Child__c", fields_Name_Parent());
            REQUIRE(kids.size() == 1);
            CHECK(kids.begin()->second == "Name=Kid|Parent__c=" + parent_id + "|");
            // The lookup comes back into the row with Salesforce's echo of the create.
            ok = co_await eventually(app, "SELECT parent__c FROM " + kid + " WHERE name = 'Kid'",
                                     parent_id);
            CHECK(ok);
            // A parent that does not exist fails only that child, naming the key.
            auto orphan = co_await must_query(app, "SELECT _hc_lastop, _hc_err FROM " + kid +
                                                       " WHERE name = 'Orphan'");
            CHECK(orphan.value(0, 0) == "FAILED");
            CHECK_THAT(std::string(orphan.value(0, 1)),
                       Catch::Contains("NO-SUCH-PARENT not found"));
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("ordered writes send each update of a record in turn, merged writes fold them into one",
          "[bridge][writeback]") {
    const bool merged = GENERATE(false, true);
    INFO((merged ? "merged" : "ordered"));
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            co_await h.send(
                http::verb::put, "/__sim/validation-rules",
                R"([{"object":"Contact","field":"Title","equals":"Reject me","message":"No."}])");
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Title", true)));
            cfg.writes =
                merged ? bridge::write_algorithm::merged : bridge::write_algorithm::ordered;
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('Two updates')");
            bool ok = co_await eventually(app, "SELECT (sfid IS NOT NULL)::text FROM " + t, "true");
            REQUIRE(ok);
            // The first update breaks a validation rule, the second is fine.
            co_await must_exec(app, "BEGIN; UPDATE " + t + " SET title = 'Reject me'; UPDATE " + t +
                                        " SET title = 'Accepted'; COMMIT");
            const std::string log = h.schema + "._trigger_log";
            ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state IN ('NEW', 'PENDING')",
                "0");
            REQUIRE(ok);
            auto states =
                co_await must_query(app, "SELECT string_agg(state, ',' ORDER BY id) FROM " + log +
                                             " WHERE action = 'UPDATE'");
            // Ordered: each update was its own write, in order (the first refused). Merged: one
            // write with the later value; the earlier entry is folded into it.
            CHECK(states.value(0, 0) == (merged ? "MERGED,SUCCESS" : "FAILED,SUCCESS"));
            auto row = co_await must_query(app, "SELECT sfid, _hc_lastop FROM " + t);
            // The latest write's outcome, or SYNCED once Salesforce's echo of it is applied.
            CHECK((row.value(0, 1) == "UPDATED" || row.value(0, 1) == "SYNCED"));
            auto rec = co_await sim_record(h, std::string(row.value(0, 0)), contact_fields());
            CHECK(rec == "LastName=Two updates|Email=null|Title=Accepted|");
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("a conflict goes to the later change and the losing value is recorded",
          "[bridge][writeback]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Title", true)));
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('Contested')");
            bool ok = co_await eventually(app, "SELECT (sfid IS NOT NULL)::text FROM " + t, "true");
            REQUIRE(ok);
            auto id = co_await must_query(app, "SELECT sfid FROM " + t);
            const std::string sfid(id.value(0, 0));
            const std::string pending =
                "SELECT count(*)::text FROM " + log + " WHERE state IN ('NEW', 'PENDING')";

            // While sfbridge is down, the app edits the title, then a Salesforce user does.
            co_await h.stop();
            co_await must_exec(app, "UPDATE " + t + " SET title = 'From the app'");
            co_await sleep_ms(30);
            co_await h.send(http::verb::patch, "/__sim/records/Contact",
                            R"([{"Id":")" + sfid + R"(","Title":"From Salesforce"}])");
            co_await h.start(cfg);
            ok = co_await eventually(app, pending, "0");
            REQUIRE(ok);
            auto state = co_await must_query(app, "SELECT state, sf_message FROM " + log +
                                                      " WHERE action = 'UPDATE' ORDER BY id DESC");
            // Salesforce's later change won: the write was not applied, in Heroku Connect's
            // state for that, with the reason.
            CHECK(state.value(0, 0) == "FAILED");
            CHECK(state.value(0, 1) ==
                  "not applied: Salesforce changed title after this write, and the later change "
                  "wins (the value that lost is in _sfbridge_conflicts; change the row again to "
                  "send it anew)");
            auto rec = co_await sim_record(h, sfid, contact_fields());
            CHECK(rec == "LastName=Contested|Email=null|Title=From Salesforce|");
            ok = co_await eventually(app, "SELECT title FROM " + t, "From Salesforce");
            CHECK(ok);
            auto k = co_await must_query(app, "SELECT sfid, field, winner, kept_value, lost_value "
                                              "FROM " +
                                                  h.schema + "._sfbridge_conflicts");
            REQUIRE(k.rows() == 1);
            CHECK(k.value(0, 0) == sfid);
            CHECK(k.value(0, 1) == "title");
            CHECK(k.value(0, 2) == "salesforce");
            CHECK(k.value(0, 3) == "From Salesforce");
            CHECK(k.value(0, 4) == "From the app");

            // The other way round: Salesforce first, the app later; the app's value wins.
            co_await h.stop();
            co_await h.send(http::verb::patch, "/__sim/records/Contact",
                            R"([{"Id":")" + sfid + R"(","Title":"Salesforce first"}])");
            co_await sleep_ms(30);
            co_await must_exec(app, "UPDATE " + t + " SET title = 'The app later'");
            co_await h.start(cfg);
            ok = co_await eventually(app, pending, "0");
            REQUIRE(ok);
            state = co_await must_query(app, "SELECT state FROM " + log +
                                                 " WHERE action = 'UPDATE' ORDER BY id DESC");
            CHECK(state.value(0, 0) == "SUCCESS");
            for (int i = 0; i < 100; ++i) {
                rec = co_await sim_record(h, sfid, contact_fields());
                if (rec.find("The app later") != std::string::npos)
                    break;
                co_await sleep_ms(50);
            }
            CHECK(rec == "LastName=Contested|Email=null|Title=The app later|");
            ok = co_await eventually(app, "SELECT title FROM " + t, "The app later");
            CHECK(ok);
            k = co_await must_query(app, "SELECT winner, kept_value, lost_value FROM " + h.schema +
                                             "._sfbridge_conflicts ORDER BY id DESC");
            REQUIRE(k.rows() == 2);
            CHECK(k.value(0, 0) == "postgres");
            CHECK(k.value(0, 1) == "The app later");
            CHECK(k.value(0, 2) == "Salesforce first");
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

// Seed 1030 of the long campaign: with Salesforce's clock ahead, SystemModstamp compared with
// the trigger log's times as they are made every Salesforce change look later than the app's,
// so the app's later write lost its conflict. Compared in one clock (bridge/sf_clock), it wins.
// The two changes are 2.5 s apart: the clock is read from a Date header of whole seconds.
TEST_CASE("with Salesforce's clock five minutes ahead, the app's later change wins its conflict",
          "[bridge][writeback]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Title", true)));
            co_await h.send(http::verb::put, "/__sim/clock", R"({"offsetMs":300000})");
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('Skewed')");
            bool ok = co_await eventually(app, "SELECT (sfid IS NOT NULL)::text FROM " + t, "true");
            REQUIRE(ok);
            auto id = co_await must_query(app, "SELECT sfid FROM " + t);
            const std::string sfid(id.value(0, 0));

            co_await h.stop();
            co_await h.send(http::verb::patch, "/__sim/records/Contact",
                            R"([{"Id":")" + sfid + R"(","Title":"Salesforce first"}])");
            co_await sleep_ms(2500);
            co_await must_exec(app, "UPDATE " + t + " SET title = 'The app later'");
            co_await h.start(cfg);
            ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state IN ('NEW', 'PENDING')",
                "0");
            REQUIRE(ok);
            auto state = co_await must_query(app, "SELECT state FROM " + log +
                                                      " WHERE action = 'UPDATE' ORDER BY id DESC");
            CHECK(state.value(0, 0) == "SUCCESS");
            auto k = co_await must_query(app, "SELECT winner, kept_value, lost_value FROM " +
                                                  h.schema + "._sfbridge_conflicts");
            REQUIRE(k.rows() == 1);
            CHECK(k.value(0, 0) == "postgres");
            CHECK(k.value(0, 1) == "The app later");
            CHECK(k.value(0, 2) == "Salesforce first");
            std::string rec;
            for (int i = 0; i < 200 && rec.find("The app later") == std::string::npos; ++i) {
                rec = co_await sim_record(h, sfid, contact_fields());
                co_await sleep_ms(50);
            }
            CHECK(rec == "LastName=Skewed|Email=null|Title=The app later|");
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("a Heroku Connect schema with synced rows and queued writes is adopted as it is",
          "[bridge][writeback]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            co_await h.send(http::verb::post, "/__sim/records/Contact",
                            R"([{"LastName":"Kept"},{"LastName":"Renamed"},{"LastName":"Gone"}])");
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName", true)));
            // The tables, triggers and rows as Heroku Connect leaves them: sfbridge's own
            // bookkeeping tables are dropped, as if it had never run here.
            co_await h.start(cfg);
            bool ok = co_await converged(h, app, "Contact", "LastName");
            REQUIRE(ok);
            co_await h.stop();
            const std::string s = h.schema;
            co_await must_exec(app, "DROP TABLE " + s + "._sfbridge_state, " + s +
                                        "._sfbridge_deleted, " + s + "._sfbridge_errors, " + s +
                                        "._sfbridge_conflicts");
            // The app's writes queued in _trigger_log while nothing was syncing.
            const std::string t = s + ".contact";
            co_await must_exec(app, "UPDATE " + t +
                                        " SET lastname = 'Renamed by the app' WHERE "
                                        "lastname = 'Renamed'; DELETE FROM " +
                                        t + " WHERE lastname = 'Gone'; INSERT INTO " + t +
                                        " (lastname) VALUES ('New from the app')");
            auto queued = co_await must_query(app, "SELECT count(*) FROM " + s +
                                                       "._trigger_log WHERE state = 'NEW'");
            CHECK(queued.value(0, 0) == "3");
            co_await h.start(cfg);
            ok = co_await eventually(app,
                                     "SELECT count(*)::text FROM " + s +
                                         "._trigger_log WHERE state IN ('NEW', 'PENDING')",
                                     "0");
            REQUIRE(ok);
            ok = co_await converged(h, app, "Contact", "LastName", 30);
            CHECK(ok);
            auto names = co_await must_query(
                app, "SELECT string_agg(lastname, ',' ORDER BY lastname), count(DISTINCT sfid) "
                     "FROM " +
                         t);
            CHECK(names.value(0, 0) == "Kept,New from the app,Renamed by the app");
            CHECK(names.value(0, 1) == "3");
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("rows claimed by a live write-back are left to it, a dead one's are sent again",
          "[bridge][writeback]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName", true)));
            co_await h.start(cfg);
            co_await h.stop();
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('Claimed')");
            // Another sfbridge's write-back (a session of that name) has claimed the row.
            pg::connection other(h.f.io.get_executor());
            co_await must_connect(other);
            co_await must_exec(other, "SET application_name = 'sfbridge-writeback'; UPDATE " + log +
                                          " SET state = 'PENDING', processed_tx = "
                                          "pg_backend_pid()");
            co_await h.start(cfg);
            co_await sleep_ms(1500);
            auto state = co_await must_query(app, "SELECT state FROM " + log);
            CHECK(state.value(0, 0) == "PENDING"); // not taken from a live claimer
            co_await h.stop();
            // That process is gone: the next start sends the row.
            other.close();
            co_await sleep_ms(200);
            co_await h.start(cfg);
            bool ok = co_await eventually(app, "SELECT state FROM " + log, "SUCCESS");
            CHECK(ok);
            auto rows = co_await sim_rows(h, "Contact", fields_LastName());
            CHECK(rows.size() == 1);
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("a trigger log row naming an unmapped table or a bad sfid fails alone and the rest "
          "of its batch is recorded",
          "[bridge][writeback]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            co_await h.start(h.config(read_write(mapping_json("Contact", "Id,LastName", true))));
            const std::string t = h.schema + ".contact", tl = h.schema + "._trigger_log";
            // One transaction, so that one claim takes the three rows together.
            co_await must_exec(app, "BEGIN; INSERT INTO " + t +
                                        " (lastname) VALUES ('Good'); INSERT INTO " + tl +
                                        " (state, action, table_name, record_id, sfid) VALUES "
                                        "('NEW', 'INSERT', 'no_such_table', 1, NULL), "
                                        "('NEW', 'DELETE', 'contact', 999, '003D000000IRF,b'); "
                                        "COMMIT");
            bool ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + tl + " WHERE state IN ('NEW', 'PENDING')",
                "0");
            REQUIRE(ok);
            auto log = co_await must_query(app, "SELECT state, coalesce(sf_message, '') FROM " +
                                                    tl + " ORDER BY id");
            REQUIRE(log.rows() == 3);
            CHECK(log.value(0, 0) == "SUCCESS");
            CHECK(log.value(1, 0) == "FAILED");
            CHECK_THAT(std::string(log.value(1, 1)), Catch::Contains("no read-write mapping"));
            CHECK(log.value(2, 0) == "FAILED");
            CHECK_THAT(std::string(log.value(2, 1)), Catch::Contains("not a Salesforce record id"));
            auto row = co_await must_query(app, "SELECT (sfid IS NOT NULL)::text FROM " + t);
            CHECK(row.value(0, 0) == "true");
            // The write-back goes on: a later insert reaches Salesforce too.
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('After')");
            ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + t + " WHERE sfid IS NOT NULL", "2");
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}
