// Postgres to Salesforce when Salesforce applied a create and its answer never came
// (salesforce-protocol.md §5): the record is found, not created a second time.
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {

// Each of the table's rows holds a record of its own, `n` of them.
asio::awaitable<void> check_one_row_per_record(pg::connection& app, const std::string& table,
                                               const std::string& n) {
    auto rows = co_await must_query(app, "SELECT count(*), count(DISTINCT sfid) FROM " + table);
    CHECK(rows.value(0, 0) == n);
    CHECK(rows.value(0, 1) == n);
}

// A session that stands for a write-back which claimed rows and lives on: a start leaves its
// rows to it until it closes.
asio::awaitable<void> connect_as_writeback(pg::connection& c) {
    co_await must_connect(c);
    co_await must_exec(c, "SET application_name = 'sfbridge-writeback'");
}
asio::awaitable<void> claim_new_rows_for_it(pg::connection& app, const std::string& log) {
    co_await must_exec(app, "UPDATE " + log +
                                " SET state = 'PENDING', processed_tx = (SELECT pid FROM "
                                "pg_stat_activity WHERE application_name = 'sfbridge-writeback' "
                                "LIMIT 1) WHERE state = 'NEW'");
}

// The app's trigger refuses any update of its 'Blocked' rows: sfbridge's stamp of the sfid among
// them.
asio::awaitable<void> block_updates_of_blocked_rows(pg::connection& app, const std::string& schema,
                                                    const std::string& t) {
    co_await must_exec(app, "CREATE FUNCTION " + schema +
                                ".app_block() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF "
                                "OLD.lastname = 'Blocked' THEN RAISE EXCEPTION 'the app refuses'; "
                                "END IF; RETURN NEW; END $$; CREATE TRIGGER app_block BEFORE "
                                "UPDATE ON " +
                                t + " FOR EACH ROW EXECUTE FUNCTION " + schema + ".app_block()");
}

// sfsim holds `n` Contacts, the table holds the same, one row each.
asio::awaitable<void> check_contacts_once(harness& h, pg::connection& app, const std::string& t,
                                          std::size_t n) {
    auto records = co_await sim_rows(h, "Contact", fields_LastName());
    CHECK(records.size() == n);
    const auto converged_now = co_await converged(h, app, "Contact", "LastName");
    CHECK(converged_now);
    co_await check_one_row_per_record(app, t, std::to_string(n));
}

// The rows are claimed by a process that died (no backend has that pid).
asio::awaitable<void> claim_for_a_dead_process(pg::connection& app, const std::string& log) {
    co_await must_exec(app, "UPDATE " + log + " SET state = 'PENDING', processed_tx = 2147483647");
}

// Three inserts in one statement whose create call loses its answer as `fault` says, then one
// more insert once the fault is gone. Each insert must become exactly one Salesforce record,
// and Postgres must hold exactly Salesforce's records, each row with its own sfid.
void lost_create_answer(const std::string& fault, std::chrono::milliseconds deadline,
                        long long sf_clock_offset_ms = 0) {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Email", true)));
            cfg.salesforce.request_timeout = deadline;
            if (sf_clock_offset_ms != 0)
                co_await h.send(http::verb::put, "/__sim/clock",
                                R"({"offsetMs":)" + std::to_string(sf_clock_offset_ms) + "}");
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await h.send(http::verb::put, "/__sim/faults", fault);
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (lastname, email) SELECT 'Lost ' || i, 'lost' || i || "
                                        "'@example.com' FROM generate_series(1, 3) i");
            bool ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'SUCCESS'", "3", 90);
            REQUIRE(ok);
            co_await h.send(http::verb::put, "/__sim/faults", "{}");
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('After the fault')");
            ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'SUCCESS'", "4", 60);
            REQUIRE(ok);

            auto records = co_await sim_rows(h, "Contact", fields_LastName());
            CHECK(records.size() == 4);
            std::set<std::string> names;
            for (const auto& [id, row] : records)
                names.insert(row);
            CHECK(names.size() == 4);
            const auto converged_now = co_await converged(h, app, "Contact", "LastName");
            CHECK(converged_now);
            auto rows = co_await must_query(
                app, "SELECT count(*), count(DISTINCT sfid), count(*) FILTER (WHERE _hc_lastop = "
                     "'FAILED') FROM " +
                         t);
            CHECK(rows.value(0, 0) == "4");
            CHECK(rows.value(0, 1) == "4");
            CHECK(rows.value(0, 2) == "0");
            auto left = co_await must_query(app, "SELECT count(*) FROM " + log +
                                                     " WHERE state IN ('NEW', 'PENDING')");
            CHECK(left.value(0, 0) == "0");
            co_await h.stop();
        }(),
        std::chrono::seconds(240));
}

} // namespace

TEST_CASE("a create whose connection drops after Salesforce applied it is found and not sent "
          "again",
          "[bridge][writeback][fault]") {
    lost_create_answer(
        R"({"afterApply":{"action":"drop","api":"collections","object":"Contact","count":1}})",
        std::chrono::seconds(30));
}

TEST_CASE("a create answered 502 by a proxy after Salesforce applied it is found and not sent "
          "again",
          "[bridge][writeback][fault]") {
    lost_create_answer(R"({"afterApply":{"action":"status","status":502,"api":"collections",)"
                       R"("object":"Contact","count":1}})",
                       std::chrono::seconds(30));
}

TEST_CASE("a create answered after the client's deadline is found and not sent again",
          "[bridge][writeback][fault]") {
    lost_create_answer(R"({"afterApply":{"action":"delay","delayMs":4000,"api":"collections",)"
                       R"("object":"Contact","count":1}})",
                       std::chrono::milliseconds(1500));
}

// Seed 1060: the write-back read the app's table in the transaction that holds the mapping's
// lock across the create call, so its lock on the table lasted as long as the call, and an app's
// DDL (and every query queued behind it) waited for Salesforce. The lock is taken for the
// session now, and the reads before the call hold none.
TEST_CASE("an app's DDL on a mapped table does not wait for a create call in flight",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName", true)));
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await must_exec(app, "CREATE FUNCTION " + h.schema +
                                        ".app_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                        "RETURN NEW; END $$; CREATE TRIGGER app_noop BEFORE UPDATE "
                                        "ON " +
                                        t + " FOR EACH ROW EXECUTE FUNCTION " + h.schema +
                                        ".app_noop()");
            // Salesforce applies the create and answers 20 s later.
            co_await h.send(http::verb::put, "/__sim/faults",
                            R"({"afterApply":{"action":"delay","delayMs":20000,)"
                            R"("api":"collections","object":"Contact","count":1}})");
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('In flight')");
            bool ok = co_await sim_holds(h, "Contact", 1);
            REQUIRE(ok); // the call is in flight: applied, its answer held back
            co_await must_exec(app, "SET lock_timeout = '5s'");
            co_await must_exec(app, "DROP TRIGGER app_noop ON " + t); // would time out
            co_await must_exec(app, "RESET lock_timeout");
            co_await h.send(http::verb::put, "/__sim/faults", "{}");
            ok = co_await eventually(app, "SELECT state FROM " + log, "SUCCESS", 60);
            CHECK(ok);
            auto rows = co_await must_query(app, "SELECT count(*), count(sfid) FROM " + t);
            CHECK(rows.value(0, 0) == "1"); // the echo waited for the lock: no second row
            CHECK(rows.value(0, 1) == "1");
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

// Seed 1070: Postgres went away as a conflict was being recorded; the update was planned without
// its losing field all the same, so the app's value was gone with no conflict row. Now the
// updates wait until their conflicts are recorded. (The app's trigger on _sfbridge_conflicts
// stands in for the lost session: it refuses until the gate opens, counting its refusals.)
TEST_CASE("a conflict that cannot be recorded holds its update back until it is",
          "[bridge][writeback][fault]") {
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
            const std::string sfid((co_await must_query(app, "SELECT sfid FROM " + t)).value(0, 0));
            co_await h.stop();
            co_await must_exec(
                app, "CREATE TABLE " + h.schema + ".gate (open boolean); INSERT INTO " + h.schema +
                         ".gate VALUES (false); CREATE SEQUENCE " + h.schema + ".refusals");
            co_await must_exec(
                app, "CREATE FUNCTION " + h.schema +
                         ".refuse_conflicts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NOT "
                         "(SELECT open FROM " +
                         h.schema + ".gate) THEN PERFORM nextval('" + h.schema +
                         ".refusals'); RAISE EXCEPTION 'not now'; END IF; RETURN NEW; END $$; "
                         "CREATE TRIGGER refuse BEFORE INSERT ON " +
                         h.schema + "._sfbridge_conflicts FOR EACH ROW EXECUTE FUNCTION " +
                         h.schema + ".refuse_conflicts()");
            // The app edits the title, then a Salesforce user does: Salesforce's is later.
            co_await must_exec(app, "UPDATE " + t + " SET title = 'From the app'");
            // Salesforce's edit must carry a later time: wait until the clock has moved on.
            const auto edited = std::chrono::system_clock::now();
            while (std::chrono::system_clock::now() - edited < std::chrono::milliseconds(30))
                co_await sleep_ms(1);
            co_await h.send(http::verb::patch, "/__sim/records/Contact",
                            R"([{"Id":")" + sfid + R"(","Title":"From Salesforce"}])");
            co_await h.start(cfg);
            ok = co_await eventually(
                app, "SELECT (last_value >= 1 AND is_called)::text FROM " + h.schema + ".refusals",
                "true", 60);
            REQUIRE(ok); // a recording was refused
            auto state =
                co_await must_query(app, "SELECT state FROM " + log + " WHERE action = 'UPDATE'");
            CHECK(state.value(0, 0) != "FAILED"); // not settled without its record
            co_await must_exec(app, "UPDATE " + h.schema + ".gate SET open = true");
            ok = co_await eventually(app, "SELECT state FROM " + log + " WHERE action = 'UPDATE'",
                                     "FAILED", 60);
            CHECK(ok);
            auto k = co_await must_query(app, "SELECT winner, kept_value, lost_value FROM " +
                                                  h.schema + "._sfbridge_conflicts");
            REQUIRE(k.rows() == 1);
            CHECK(k.value(0, 0) == "salesforce");
            CHECK(k.value(0, 1) == "From Salesforce");
            CHECK(k.value(0, 2) == "From the app");
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

// The lookup asks for records created since the write's capture: in Salesforce's clock, or
// with Salesforce ten minutes behind (past the lookup's five-minute margin) it finds nothing
// and the record is created twice.
TEST_CASE("a lost create is found with Salesforce's clock ten minutes behind",
          "[bridge][writeback][fault]") {
    lost_create_answer(
        R"({"afterApply":{"action":"drop","api":"collections","object":"Contact","count":1}})",
        std::chrono::seconds(30), -600000);
}

TEST_CASE("creates a dead process claimed are looked for after a restart and the sent ones "
          "adopted",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Email", true)));
            co_await h.start(cfg);
            co_await h.stop();
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            // A process claimed three inserts and died; two of its creates had reached
            // Salesforce (made here through sfsim's control API, as the same user).
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (lastname, email) VALUES ('Sent 1', 's1@example.com'), "
                                        "('Sent 2', 's2@example.com'), ('Never sent', NULL)");
            co_await claim_for_a_dead_process(app, log);
            co_await h.send(http::verb::post, "/__sim/records/Contact",
                            R"([{"LastName":"Sent 1","Email":"s1@example.com"},)"
                            R"({"LastName":"Sent 2","Email":"s2@example.com"}])");
            co_await h.start(cfg);
            bool ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'SUCCESS'", "3", 60);
            REQUIRE(ok);
            co_await check_contacts_once(h, app, t, 3);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

// Seed 1042 of the long campaign: a process died holding creates it had sent; the inbound side
// made a row of one record's echo (the app's row had no sfid yet), and the app deleted that row
// before the next start. The create adopts its record, the app's DELETE then deletes it, and
// the app's row goes with it: one record, never a second one made for the app's row.
TEST_CASE("a lost create whose echo row the app deleted is adopted and deleted, not made again",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Email", true)));
            co_await h.start(cfg);
            co_await h.stop();
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (lastname, email) VALUES ('Echoed', 'echo@example.com')");
            co_await claim_for_a_dead_process(app, log);
            const auto ids = co_await sim_create(
                h, "Contact", R"([{"LastName":"Echoed","Email":"echo@example.com"}])");
            REQUIRE(ids.size() == 1);
            // The echo's row, as the inbound side writes it (its session is not logged), then
            // the app's DELETE of that row.
            co_await must_exec(app, "SET xmlbinary TO hex");
            co_await must_exec(app, "INSERT INTO " + t + " (sfid, lastname, email) VALUES ('" +
                                        ids[0] + "', 'Echoed', 'echo@example.com')");
            co_await must_exec(app, "RESET xmlbinary");
            co_await must_exec(app, "DELETE FROM " + t + " WHERE sfid = '" + ids[0] + "'");
            co_await h.start(cfg);
            bool ok = co_await eventually(app,
                                          "SELECT count(*)::text FROM " + log +
                                              " WHERE state NOT IN ('SUCCESS', 'IGNORE')",
                                          "0", 60);
            REQUIRE(ok);
            ok = co_await eventually(app, "SELECT count(*)::text FROM " + t, "0", 60);
            CHECK(ok); // the app's row went with its record
            auto records = co_await sim_rows(h, "Contact", fields_LastName());
            CHECK(records.empty()); // deleted, and no second one made
            auto made = co_await must_query(app, "SELECT count(*) FROM " + log +
                                                     " WHERE action = 'INSERT' AND sfid <> '" +
                                                     ids[0] + "'");
            CHECK(made.value(0, 0) == "0");
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

// Seed 1049: the app updated a record through the row the inbound side had made of its echo;
// that row then gave way to the create's own row, which the update's echo reached after the
// app had updated it too. The echo's value is the app's (sent through the other row), not a
// Salesforce change that wins a conflict over the app's later write.
TEST_CASE("an update sent through an echo row is the app's own when the record's row is judged",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Title", true)));
            co_await h.start(cfg);
            co_await h.stop();
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            // A process sent the create and died; the inbound side made a row of its echo.
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('Twice held')");
            co_await claim_for_a_dead_process(app, log);
            const auto ids = co_await sim_create(h, "Contact", R"([{"LastName":"Twice held"}])");
            REQUIRE(ids.size() == 1);
            co_await must_exec(app, "SET xmlbinary TO hex");
            co_await must_exec(app, "INSERT INTO " + t + " (sfid, lastname) VALUES ('" + ids[0] +
                                        "', 'Twice held')");
            co_await must_exec(app, "RESET xmlbinary");
            // The app updates the echo's row, then its own, whose update another (live)
            // write-back holds for now.
            co_await must_exec(app, "UPDATE " + t + " SET title = 'Via the echo' WHERE sfid = '" +
                                        ids[0] + "'");
            co_await must_exec(app, "UPDATE " + t + " SET title = 'Latest' WHERE sfid IS NULL");
            pg::connection other(h.f.io.get_executor());
            co_await must_connect(other);
            co_await must_exec(other, "SET application_name = 'sfbridge-writeback'; UPDATE " + log +
                                          " SET state = 'PENDING', processed_tx = "
                                          "pg_backend_pid() WHERE \"values\" LIKE '%Latest%'");
            co_await h.start(cfg);
            bool ok = co_await eventually(app,
                                          "SELECT string_agg(state, ',' ORDER BY id) FROM " + log +
                                              " WHERE \"values\" NOT LIKE '%Latest%'",
                                          "SUCCESS,SUCCESS", 60);
            REQUIRE(ok); // the create adopted its record, the echo row's update was sent
            co_await h.stop();
            // The record's row holds the update's echo, newer than the app's held update.
            co_await must_exec(app, "SET xmlbinary TO hex");
            co_await must_exec(app, "UPDATE " + t +
                                        " SET title = 'Via the echo', systemmodstamp = (now() AT "
                                        "TIME ZONE 'utc') + interval '1 second'");
            co_await must_exec(app, "RESET xmlbinary");
            other.close();
            co_await must_exec(app, "UPDATE " + log +
                                        " SET state = 'NEW', processed_tx = NULL WHERE state = "
                                        "'PENDING'");
            co_await h.start(cfg);
            ok = co_await eventually(app,
                                     "SELECT state FROM " + log +
                                         " WHERE \"values\" LIKE "
                                         "'%Latest%'",
                                     "SUCCESS", 60);
            CHECK(ok); // not CONFLICT
            std::string rec;
            const std::vector<std::string> fields{"LastName", "Title"};
            for (int i = 0; i < 200 && rec.find("Latest") == std::string::npos; ++i) {
                auto all = co_await sim_rows(h, "Contact", fields);
                rec = all[ids[0]];
                co_await sleep_ms(50);
            }
            CHECK(rec == "LastName=Twice held|Title=Latest|");
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("lost creates' records a Salesforce user changed or deleted since are adopted, not "
          "created again",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            // No stream and no overlap: neither an event nor a poll brings a change twice, so
            // the user's rename, made into the echo's row by the first poll and gone with that
            // row when the create is adopted, reaches the app's row only because the adopted
            // record is read again.
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Email", false)));
            cfg.poll_overlap = std::chrono::milliseconds(0);
            co_await h.start(cfg);
            co_await h.stop();
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            // A process claimed four inserts, sent them, and died before their answers.
            co_await must_exec(app,
                               "INSERT INTO " + t +
                                   " (lastname, email) VALUES ('Edited', 'ed@example.com'), "
                                   "('Deleted', 'del@example.com'), ('Kept', 'kept@example.com'), "
                                   "('Both', 'both@example.com')");
            co_await claim_for_a_dead_process(app, log);
            const auto ids =
                co_await sim_create(h, "Contact",
                                    R"([{"LastName":"Edited","Email":"ed@example.com"},)"
                                    R"({"LastName":"Deleted","Email":"del@example.com"},)"
                                    R"({"LastName":"Kept","Email":"kept@example.com"},)"
                                    R"({"LastName":"Both","Email":"both@example.com"}])");
            REQUIRE(ids.size() == 4);
            // Then, before the next start, a user renamed one record and deleted another (once
            // the clock has moved on: a save in the creation's millisecond looks unchanged).
            const auto created = std::chrono::system_clock::now();
            while (std::chrono::system_clock::now() - created < std::chrono::milliseconds(5))
                co_await sleep_ms(1);
            co_await h.send(http::verb::patch, "/__sim/records/Contact",
                            R"([{"Id":")" + ids[0] + R"(","LastName":"Edited by a user"}])");
            co_await h.send(http::verb::delete_, "/__sim/records/Contact?ids=" + ids[1], "");
            // And one renamed, then deleted: no value matches in the bin any more (seed 1074).
            co_await h.send(http::verb::patch, "/__sim/records/Contact",
                            R"([{"Id":")" + ids[3] + R"(","LastName":"Both, by a user"}])");
            co_await h.send(http::verb::delete_, "/__sim/records/Contact?ids=" + ids[3], "");
            co_await h.start(cfg);
            bool ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'SUCCESS'", "4", 60);
            REQUIRE(ok);
            // No record was created again: the renamed one and the kept one live, the deleted ones
            // stay deleted, and their rows went with them.
            auto records = co_await sim_rows(h, "Contact", fields_LastName());
            CHECK(records.size() == 2);
            CHECK(records.contains(ids[0]));
            CHECK(records.contains(ids[2]));
            ok = co_await eventually(app,
                                     "SELECT count(*) || ':' || string_agg(coalesce(sfid, 'NULL'), "
                                     "',' ORDER BY lastname) FROM " +
                                         t,
                                     "2:" + ids[0] + "," + ids[2], 60);
            CHECK(ok);
            auto msg = co_await must_query(app, "SELECT sfid, sf_message FROM " + log +
                                                    " WHERE sf_message IS NOT NULL ORDER BY sfid");
            REQUIRE(msg.rows() == 2);
            const auto binned =
                std::set<std::string>{std::string(msg.value(0, 0)), std::string(msg.value(1, 0))};
            CHECK(binned == std::set<std::string>{ids[1], ids[3]});
            CHECK(msg.value(0, 1).find("deleted in Salesforce") != std::string::npos);
            CHECK(msg.value(1, 1).find("deleted in Salesforce") != std::string::npos);
            const auto converged_now = co_await converged(h, app, "Contact", "LastName");
            CHECK(converged_now);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

// Seed 1093 of the long campaign: an upsert whose answer was lost is safe to send again while
// its record lives; but a user changed the record and deleted it before the retry, and the
// upsert, finding no live record with the key, made a second one (the first came back with an
// undelete). The deleted record is adopted and the row deleted, as the delete's echo would do.
TEST_CASE("an upsert whose answer was lost and whose record a user deleted since is not made "
          "again",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(sim_everything_upserted());
            co_await h.start(cfg);
            co_await h.stop();
            const std::string t = h.schema + ".sim_everything__c";
            const std::string log = h.schema + "._trigger_log";
            // A process claimed two upserts, sent them, and died before their answers.
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (name, external_id__c) VALUES ('Gone', 'K-1093-1'), "
                                        "('Kept', 'K-1093-2')");
            co_await claim_for_a_dead_process(app, log);
            const auto ids = co_await sim_create(h, "Sim_Everything__c",
                                                 R"([{"Name":"Gone","External_Id__c":"K-1093-1"},)"
                                                 R"({"Name":"Kept","External_Id__c":"K-1093-2"}])");
            REQUIRE(ids.size() == 2);
            // Before the next start, a user renamed the first and deleted it.
            co_await h.send(http::verb::patch, "/__sim/records/Sim_Everything__c",
                            R"([{"Id":")" + ids[0] + R"(","Name":"Gone, by a user"}])");
            co_await h.send(http::verb::delete_, "/__sim/records/Sim_Everything__c?ids=" + ids[0],
                            "");
            co_await h.start(cfg);
            bool ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'SUCCESS'", "2", 60);
            REQUIRE(ok);
            // One live record, the kept one; the deleted one was not made again, and its row went.
            auto records = co_await sim_rows(h, "Sim_Everything__c", fields_Name());
            CHECK(records.size() == 1);
            CHECK(records.contains(ids[1]));
            ok = co_await eventually(
                app, "SELECT count(*) || ':' || string_agg(coalesce(sfid, 'NULL'), ',') FROM " + t,
                "1:" + ids[1], 60);
            CHECK(ok);
            auto msg = co_await must_query(app, "SELECT sfid, sf_message FROM " + log +
                                                    " WHERE sf_message IS NOT NULL");
            REQUIRE(msg.rows() == 1);
            CHECK(msg.value(0, 0) == ids[0]);
            CHECK(msg.value(0, 1).find("deleted in Salesforce") != std::string::npos);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

// The guard of the test above: a key the app reused after deleting its record. The deleted
// record in the bin is the app's own earlier one, not the new row's: the upsert makes a record.
TEST_CASE("an upsert whose answer was lost is sent again when the record in the bin is one the "
          "app deleted itself",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(sim_everything_upserted());
            co_await h.start(cfg);
            const std::string t = h.schema + ".sim_everything__c";
            const std::string log = h.schema + "._trigger_log";
            // The app makes a record with key K, then deletes it: both go through.
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (name, external_id__c) VALUES ('First', 'K-reused')");
            bool ok = co_await eventually(app,
                                          "SELECT count(*)::text FROM " + t +
                                              " WHERE sfid IS NOT NULL AND name = 'First'",
                                          "1", 60);
            REQUIRE(ok);
            co_await must_exec(app, "DELETE FROM " + t + " WHERE name = 'First'");
            ok = co_await eventually(app,
                                     "SELECT count(*)::text FROM " + log +
                                         " WHERE action = 'DELETE' AND state = 'SUCCESS'",
                                     "1", 60);
            REQUIRE(ok);
            co_await h.stop();
            // A new row reuses the key; a process claimed its upsert and died before sending.
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (name, external_id__c) VALUES ('Second', 'K-reused')");
            co_await claim_for_a_dead_process(app, log);
            co_await h.start(cfg);
            ok = co_await eventually(app,
                                     "SELECT count(*)::text FROM " + t +
                                         " WHERE sfid IS NOT NULL AND name = 'Second'",
                                     "1", 60);
            CHECK(ok);
            auto records = co_await sim_rows(h, "Sim_Everything__c", fields_Name());
            CHECK(records.size() == 1);
            CHECK((records.empty() || records.begin()->second == "Name=Second|"));
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

// The other guard (an independent review's finding): a record a user deleted whose row went
// with it, its key then reused by a new row whose upsert a process claimed and died before
// sending. The record in the bin is the earlier row's, not the new row's: the upsert is sent.
TEST_CASE("an upsert whose outcome is unknown is sent when the record in the bin with its key "
          "was another row's",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(sim_everything_upserted());
            co_await h.start(cfg);
            const std::string t = h.schema + ".sim_everything__c";
            const std::string log = h.schema + "._trigger_log";
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (name, external_id__c) VALUES ('First', 'K-again')");
            bool ok = co_await eventually(app,
                                          "SELECT count(*)::text FROM " + t +
                                              " WHERE sfid IS NOT NULL AND name = 'First'",
                                          "1", 60);
            REQUIRE(ok);
            auto first = co_await must_query(app, "SELECT sfid FROM " + t);
            const std::string x0(first.value(0, 0));
            // A Salesforce user deletes it; the row goes with it.
            co_await h.send(http::verb::delete_, "/__sim/records/Sim_Everything__c?ids=" + x0, "");
            ok = co_await eventually(app, "SELECT count(*)::text FROM " + t, "0", 60);
            REQUIRE(ok);
            co_await h.stop();
            // A new row with the same key; a process claimed its upsert and died before sending.
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (name, external_id__c) VALUES ('Second', 'K-again')");
            co_await must_exec(app, "UPDATE " + log +
                                        " SET state = 'PENDING', processed_tx = 2147483647 "
                                        "WHERE state = 'NEW'");
            co_await h.start(cfg);
            ok = co_await eventually(app,
                                     "SELECT count(*)::text FROM " + t +
                                         " WHERE sfid IS NOT NULL AND name = 'Second'",
                                     "1", 60);
            CHECK(ok);
            auto rows = co_await must_query(app, "SELECT count(*)::text, min(sfid) FROM " + t);
            CHECK(rows.value(0, 0) == "1");
            CHECK(rows.value(0, 1) != x0);
            auto records = co_await sim_rows(h, "Sim_Everything__c", fields_Name());
            CHECK(records.size() == 1);
            CHECK((records.empty() || records.begin()->second == "Name=Second|"));
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("a lost create's record the app changed through its echo row is still adopted",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            // A write-back claimed the insert and lives on until the create's echo is a row of
            // its own and the app has renamed it.
            pg::connection holder(h.f.io.get_executor());
            co_await connect_as_writeback(holder);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Email", true)));
            co_await h.start(cfg);
            co_await h.stop();
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (lastname, email) VALUES ('Sent', 'sent@example.com')");
            co_await claim_new_rows_for_it(app, log);
            co_await h.send(http::verb::post, "/__sim/records/Contact",
                            R"([{"LastName":"Sent","Email":"sent@example.com"}])");
            co_await h.start(cfg);
            const std::string echo =
                "SELECT count(*)::text FROM " + t + " WHERE lastname = 'Sent' AND sfid IS NOT NULL";
            bool ok = co_await eventually(app, echo, "1", 60);
            REQUIRE(ok);
            co_await must_exec(app,
                               "UPDATE " + t + " SET lastname = 'Renamed' WHERE sfid IS NOT NULL");
            ok = co_await eventually(app,
                                     "SELECT count(*)::text FROM " + log +
                                         " WHERE action = 'UPDATE' AND state = 'SUCCESS'",
                                     "1", 60);
            REQUIRE(ok);
            holder.close(); // the claimer dies: the next start looks for the record
            co_await h.stop();
            co_await h.start(cfg);
            ok = co_await eventually(app,
                                     "SELECT count(*)::text FROM " + log +
                                         " WHERE action = 'INSERT' AND state = 'SUCCESS'",
                                     "1", 60);
            REQUIRE(ok);
            auto records = co_await sim_rows(h, "Contact", fields_LastName());
            REQUIRE(records.size() == 1);
            CHECK(records.begin()->second == "LastName=Renamed|");
            const auto converged_now = co_await converged(h, app, "Contact", "LastName");
            CHECK(converged_now);
            co_await check_one_row_per_record(app, t, "1");
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("updates a dead process sent are sent again without their echo taken for a conflict",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            pg::connection holder(h.f.io.get_executor()); // the claimer, alive until told
            co_await connect_as_writeback(holder);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Email", true)));
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('A')");
            bool ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'SUCCESS'", "1", 60);
            REQUIRE(ok);
            co_await h.stop();
            // The app renames the record twice; a process claims both updates, sends the
            // first to Salesforce (made here through sfsim's control API) and dies.
            co_await must_exec(app, "UPDATE " + t + " SET lastname = 'First'");
            co_await must_exec(app, "UPDATE " + t + " SET lastname = 'Second'");
            co_await claim_new_rows_for_it(app, log);
            auto sfid = co_await must_query(app, "SELECT sfid FROM " + t);
            co_await h.send(http::verb::patch, "/__sim/records/Contact",
                            R"([{"Id":")" + std::string(sfid.value(0, 0)) +
                                R"(","LastName":"First"}])");
            // Its echo puts the first name back in the row while the updates wait.
            co_await h.start(cfg);
            ok = co_await eventually(app, "SELECT lastname FROM " + t, "First", 60);
            REQUIRE(ok);
            holder.close();
            co_await h.stop();
            co_await h.start(cfg);
            ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state IN ('NEW', 'PENDING')",
                "0", 60);
            REQUIRE(ok);
            auto records = co_await sim_rows(h, "Contact", fields_LastName());
            REQUIRE(records.size() == 1);
            CHECK(records.begin()->second == "LastName=Second|");
            auto conflicts = co_await must_query(app, "SELECT count(*) FROM " + h.schema +
                                                          "._sfbridge_conflicts");
            CHECK(conflicts.value(0, 0) == "0");
            const auto converged_now = co_await converged(h, app, "Contact", "LastName");
            CHECK(converged_now);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("a create whose row the app's trigger refused to stamp is adopted after a restart, "
          "not created again",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Email", true)));
            cfg.shutdown_grace = std::chrono::seconds(2);
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await block_updates_of_blocked_rows(app, h.schema, t);
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('Blocked')");
            bool ok = co_await eventually(app,
                                          "SELECT count(*)::text FROM " + log +
                                              " WHERE sf_result = 3 AND sfid IS NOT NULL",
                                          "1", 60);
            REQUIRE(ok);
            co_await h.stop(); // the outcome still unrecorded after the grace
            // A Salesforce user edits the record before the next start: its values no longer
            // tell it apart, only the noted sfid does.
            auto sfid = co_await must_query(app, "SELECT sfid FROM " + log);
            co_await h.send(http::verb::patch, "/__sim/records/Contact",
                            R"([{"Id":")" + std::string(sfid.value(0, 0)) +
                                R"(","LastName":"Edited"}])");
            co_await must_exec(app, "DROP TRIGGER app_block ON " + t);
            co_await h.start(cfg);
            ok = co_await eventually(app,
                                     "SELECT count(*)::text FROM " + log +
                                         " WHERE action = 'INSERT' AND state = 'SUCCESS'",
                                     "1", 60);
            REQUIRE(ok);
            co_await check_contacts_once(h, app, t, 1);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("a row whose stamp the app's trigger refuses holds back no other write, and is "
          "stamped once the trigger lets it",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Email", true)));
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await block_updates_of_blocked_rows(app, h.schema, t);
            // One batch: the refused rows' neighbour is recorded all the same...
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (lastname) VALUES ('Free 1'), ('Blocked'), ('Blocked')");
            const std::string free_rows = "SELECT count(*)::text FROM " + t +
                                          " WHERE lastname LIKE 'Free%' AND sfid IS NOT NULL";
            bool ok = co_await eventually(app, free_rows, "1", 60);
            REQUIRE(ok);
            // ...and the write-back goes on with later writes.
            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('Free 2')");
            ok = co_await eventually(app, free_rows, "2", 60);
            REQUIRE(ok);
            auto blocked =
                co_await must_query(app, "SELECT state, sf_result, sfid IS NOT NULL FROM " + log +
                                             " WHERE \"values\" LIKE '%Blocked%'");
            REQUIRE(blocked.rows() == 2);
            for (int i = 0; i < 2; ++i) {
                CHECK(blocked.value(i, 0) == "PENDING");
                CHECK(blocked.value(i, 1) == "3"); // created, its sfid noted
                CHECK(blocked.value(i, 2) == "t");
            }
            // The app deletes one of them before it holds its sfid: the record goes too.
            co_await must_exec(app, "DELETE FROM " + t + " WHERE id = (SELECT max(id) FROM " + t +
                                        " WHERE lastname = 'Blocked' AND sfid IS NULL)");
            ok = co_await eventually(app, "SELECT state FROM " + log + " WHERE action = 'DELETE'",
                                     "SUCCESS", 60);
            REQUIRE(ok);
            // The app lets the other: its row is stamped, and nothing was created twice.
            co_await must_exec(app, "DROP TRIGGER app_block ON " + t);
            ok = co_await eventually(app,
                                     "SELECT count(*)::text FROM " + log +
                                         " WHERE action = 'INSERT' AND state = 'SUCCESS'",
                                     "4", 60);
            REQUIRE(ok);
            co_await check_contacts_once(h, app, t, 3);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

namespace {
// Ends the write-back's Postgres session (as a restart, a network cut or
// idle_in_transaction_session_timeout would) once sfsim has applied `count` writes whose
// answer it holds back.
asio::awaitable<void> kill_writeback_session(pg::connection& app) {
    // (The engine's write-back session is named after its replica: sfbridge-writeback <id>.)
    co_await must_query(app, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                             "application_name LIKE 'sfbridge-writeback %'");
}
std::vector<std::string> fields_LastName_Email() {
    return {"LastName", "Email"};
}
} // namespace

TEST_CASE("the write-back's Postgres session lost while writes are in Salesforce: the outcomes "
          "are recorded after reconnecting and nothing is sent twice",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Email", true)));
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            const std::string held = R"({"afterApply":{"action":"delay","delayMs":3000,)"
                                     R"("api":"collections","object":"Contact","count":1}})";
            // Creates: applied in Salesforce, their answer held while the session is ended.
            co_await h.send(http::verb::put, "/__sim/faults", held);
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (lastname, email) SELECT 'Row ' || i, 'v1-' || i || "
                                        "'@example.com' FROM generate_series(1, 3) i");
            const auto created = co_await sim_holds(h, "Contact", 3);
            REQUIRE(created);
            co_await kill_writeback_session(app);
            bool ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'SUCCESS'", "3", 60);
            REQUIRE(ok);

            // Updates: the same, and the values must end as the app wrote them.
            co_await h.send(http::verb::put, "/__sim/faults", held);
            co_await must_exec(app, "UPDATE " + t + " SET email = replace(email, 'v1', 'v2')");
            for (int i = 0; i < 600; ++i) {
                auto rows = co_await sim_rows(h, "Contact", fields_LastName_Email());
                if (std::all_of(rows.begin(), rows.end(), [](const auto& kv) {
                        return kv.second.find("v2-") != std::string::npos;
                    }))
                    break;
                co_await sleep_ms(50);
            }
            co_await kill_writeback_session(app);
            ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'SUCCESS'", "6", 60);
            REQUIRE(ok);

            co_await must_exec(app, "INSERT INTO " + t + " (lastname) VALUES ('After the fault')");
            ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'SUCCESS'", "7", 60);
            REQUIRE(ok);
            auto records = co_await sim_rows(h, "Contact", fields_LastName_Email());
            CHECK(records.size() == 4);
            std::size_t v2 = 0;
            for (const auto& [id, row] : records)
                v2 += row.find("Email=v2-") != std::string::npos;
            CHECK(v2 == 3);
            const auto converged_now = co_await converged(h, app, "Contact", "Email");
            CHECK(converged_now);
            co_await check_one_row_per_record(app, t, "4");
            auto left = co_await must_query(app, "SELECT count(*) FROM " + log +
                                                     " WHERE state <> 'SUCCESS'");
            CHECK(left.value(0, 0) == "0");
            co_await h.stop();
        }(),
        std::chrono::seconds(240));
}

TEST_CASE("a mapping whose daily API budget is spent holds back only its own writes",
          "[bridge][writeback][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(contact_and_account_read_write());
            co_await h.start(cfg);
            const std::string log = h.schema + "._trigger_log";
            // Once a write has gone through, the loads and first polls are done.
            co_await must_exec(app,
                               "INSERT INTO " + h.schema + ".account (name) VALUES ('Warm-up')");
            bool ok = co_await eventually(app, "SELECT string_agg(state, ',') FROM " + log,
                                          "SUCCESS", 60);
            REQUIRE(ok);
            // Contact's budget: one call a day, long spent by its load and polls.
            h.engine->api_usage().set_budget("Contact", 1);
            co_await must_exec(app, "INSERT INTO " + h.schema +
                                        ".contact (lastname) VALUES ('Over budget')");
            // Claimed (the claim stamps updated_at), refused by the budget, and set aside:
            // later writes of Account go on.
            ok = co_await eventually(app,
                                     "SELECT (updated_at > created_at)::text FROM " + log +
                                         " WHERE table_name = 'contact'",
                                     "true");
            REQUIRE(ok);
            co_await must_exec(app, "INSERT INTO " + h.schema + ".account (name) VALUES ('Free')");
            ok = co_await eventually(app,
                                     "SELECT count(*)::text FROM " + log +
                                         " WHERE table_name = 'account' AND state = 'SUCCESS'",
                                     "2");
            CHECK(ok);
            auto contact = co_await must_query(app, "SELECT state FROM " + log +
                                                        " WHERE table_name = 'contact'");
            CHECK(contact.value(0, 0) != "SUCCESS");
            const auto sim_records = co_await sim_rows(h, "Contact", fields_LastName());
            CHECK(sim_records.empty());
            // A budget that allows it again lets the held write through.
            h.engine->api_usage().set_budget("Contact", 0);
            ok = co_await eventually(
                app, "SELECT state FROM " + log + " WHERE table_name = 'contact'", "SUCCESS", 120);
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(240));
}
