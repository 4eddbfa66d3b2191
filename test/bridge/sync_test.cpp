#include "test/support/bridge_harness.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {
// Mixed changes to Contacts, then one record deleted and undeleted: the table follows each.
asio::awaitable<void> live_changes_converge(harness& h, pg::connection& c, int count) {
    const std::string body = R"({"object":"Contact","kind":"mixed","count":)" +
                             std::to_string(count) + R"(,"rate":)" + std::to_string(count) + "}";
    co_await h.send(http::verb::post, "/__sim/generate", body);
    bool ok = co_await converged(h, c, "Contact", "LastName");
    CHECK(ok);
    auto rows = co_await sim_rows(h, "Contact", fields_LastName());
    const std::string id = rows.begin()->first;
    co_await h.send(http::verb::delete_, "/__sim/records/Contact?ids=" + id, "");
    ok = co_await converged(h, c, "Contact", "LastName");
    CHECK(ok);
    co_await h.send(http::verb::post, "/__sim/records/Contact/" + id + "/undelete", "");
    ok = co_await converged(h, c, "Contact", "LastName");
    CHECK(ok);
}

// 12,000 Contacts made in sfsim over the Bulk API (so without events), and the configuration
// that loads them over Bulk API 2.0 in COPY batches of 5,000.
asio::awaitable<bridge::engine_config> bulk_contacts(harness& h) {
    co_await h.generate(
        R"({"object":"Contact","kind":"create","count":12000,"rate":0,"bulk":true})");
    auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
    cfg.bulk_threshold = 1000;
    cfg.load_batch = 5000;
    co_return cfg;
}

} // namespace

TEST_CASE("initial load then live changes: creates updates deletes and undeletes arrive",
          "[bridge][sync]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            co_await h.generate(
                R"({"object":"Contact","kind":"create","count":1500,"rate":0,"bulk":true})");
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(
                mapping_json("Contact", "Id,FirstName,LastName,Email,Title,Birthdate", true));
            cfg.poll_interval = std::chrono::seconds(600); // streaming alone must do it
            co_await h.start(cfg);
            bool ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);

            co_await live_changes_converge(h, c, 2000);
            auto synced = co_await must_query(c, "SELECT count(*) FROM " + h.schema +
                                                     ".contact WHERE _hc_lastop <> 'SYNCED'");
            CHECK(synced.value(0, 0) == "0");
            auto log = co_await must_query(c, "SELECT count(*) FROM " + h.schema + "._trigger_log");
            CHECK(log.value(0, 0) == "0"); // sfbridge's own writes are not captured
            // The load disabled the Heroku Connect triggers for its COPY only.
            auto off =
                co_await must_query(c, "SELECT count(*) FROM pg_trigger WHERE tgrelid = '" +
                                           h.schema + ".contact'::regclass AND tgenabled = 'D'");
            CHECK(off.value(0, 0) == "0");
            auto def = co_await must_query(
                c, "SELECT count(*) FROM information_schema.columns WHERE table_schema = '" +
                       h.schema +
                       "' AND table_name = 'contact' AND column_name = '_hc_lastop' AND "
                       "column_default IS NOT NULL");
            CHECK(def.value(0, 0) == "0");
            co_await h.stop();
        }(),
        std::chrono::seconds(240));
}

TEST_CASE("a load into an empty table with a trigger of the app's own runs that trigger",
          "[bridge][sync]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            auto cfg = co_await bulk_contacts(h);
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            co_await h.start(cfg);
            bool ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);
            co_await h.stop();
            // An app's own trigger on the table, and the table empty again to be loaded anew:
            // the load must not switch that trigger off (as session_replication_role would).
            const std::string app_trigger =
                "CREATE TABLE " + h.schema + ".seen_by_app (sfid text); CREATE FUNCTION " +
                h.schema +
                ".app_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO " +
                h.schema +
                ".seen_by_app VALUES (NEW.sfid); RETURN NULL; END $$; CREATE TRIGGER "
                "app_trigger AFTER INSERT ON " +
                h.schema + ".contact FOR EACH ROW EXECUTE FUNCTION " + h.schema +
                ".app_trigger(); TRUNCATE " + h.schema + ".contact; UPDATE " + h.schema +
                "._sfbridge_state SET load_state = 'new'";
            co_await must_exec(c, app_trigger);
            co_await h.start(cfg);
            ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);
            auto seen = co_await must_query(
                c, "SELECT (SELECT count(DISTINCT sfid) FROM " + h.schema +
                       ".seen_by_app) = (SELECT count(*) FROM " + h.schema +
                       ".contact), (SELECT count(*) FROM " + h.schema +
                       ".contact WHERE _hc_lastop IS DISTINCT FROM 'SYNCED'), (SELECT count(*) "
                       "FROM " +
                       h.schema + "._trigger_log)");
            CHECK(seen.value(0, 0) == "t"); // every loaded row went through the app's trigger
            CHECK(seen.value(0, 1) == "0");
            CHECK(seen.value(0, 2) == "0"); // and none through the capture
            co_await h.stop();
        }(),
        std::chrono::seconds(240));
}

TEST_CASE("a record a Bulk query returns twice is loaded once", "[bridge][sync]") {
    harness h;
    std::string log_text;
    log::set_sink([&](std::string_view line) { log_text.append(line).push_back('\n'); });
    struct sink_reset {
        ~sink_reset() { log::set_sink({}); } // also when a REQUIRE ends the test early
    } reset_sink;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            auto cfg = co_await bulk_contacts(h);
            // Every results page ends with its first record again.
            co_await h.send(http::verb::put, "/__sim/faults", R"({"repeatBulkRows":true})");
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            co_await h.start(cfg);
            const bool ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);
            auto n = co_await must_query(c, "SELECT count(*), count(DISTINCT sfid) FROM " +
                                                h.schema + ".contact");
            CHECK(n.value(0, 0) == "12000");
            CHECK(n.value(0, 1) == "12000");
            // The COPY into the empty table met the record twice and the next attempt merged.
            CHECK(log_text.find("initial load write failed") != std::string::npos);
            co_await h.stop();
        }(),
        std::chrono::seconds(240));
}

TEST_CASE("an initial load reads each record once, over the API its size picks, and COPYs it",
          "[bridge][sync]") {
    harness h;
    std::string log_text;
    log::set_sink([&](std::string_view line) { log_text.append(line).push_back('\n'); });
    struct sink_reset {
        ~sink_reset() { log::set_sink({}); }
    } reset_sink;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            auto cfg = co_await bulk_contacts(h); // 12,000 Contacts: Bulk API 2.0
            co_await h.generate(
                R"({"object":"Account","kind":"create","count":700,"rate":0,"bulk":true})");
            // Two mappings in one file: Contact (Bulk) and Account (REST).
            std::vector<std::string> errors;
            auto contact =
                mappings::read_mapping_file(mapping_json("Contact", "Id,LastName", true), errors);
            auto account =
                mappings::read_mapping_file(mapping_json("Account", "Id,Name", true), errors);
            REQUIRE(contact);
            REQUIRE(account);
            cfg.mappings = *contact;
            cfg.mappings.mappings.push_back(account->mappings.front());
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            co_await h.start(cfg);
            bool ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);
            ok = co_await converged(h, c, "Account", "Name");
            REQUIRE(ok);
            // A load counts its rows before it marks itself done, after its last COMMIT.
            ok = co_await eventually(c,
                                     "SELECT count(*) FROM " + h.schema +
                                         "._sfbridge_state WHERE load_state = 'loaded'",
                                     "2", 60);
            REQUIRE(ok);
            for (const auto& s : h.engine->stats()) {
                INFO(s.object);
                CHECK(s.rows_loaded == (s.object == "Contact" ? 12000u : 700u));
            }
            CHECK(log_text.find("records=12000 api=bulk") != std::string::npos);
            CHECK(log_text.find("records=700 api=rest") != std::string::npos);
            // Straight into the empty tables: no COPY failed over to merges.
            CHECK(log_text.find("initial load write failed") == std::string::npos);
            co_await h.stop();
        }(),
        std::chrono::seconds(240));
}

TEST_CASE("every field type is loaded and streamed", "[bridge][sync]") {
    harness h;
    const std::vector<std::string> fields{"Name",
                                          "Text__c",
                                          "Checkbox__c",
                                          "Number__c",
                                          "Int__c",
                                          "Currency__c",
                                          "Percent__c",
                                          "Date__c",
                                          "DateTime__c",
                                          "Time__c",
                                          "Picklist__c",
                                          "MultiPicklist__c",
                                          "Email__c",
                                          "Phone__c",
                                          "Url__c",
                                          "TextArea__c",
                                          "LongTextArea__c",
                                          "RichText__c",
                                          "Encrypted__c",
                                          "Account__c",
                                          "External_Id__c",
                                          "Location__Latitude__s",
                                          "Location__Longitude__s",
                                          "Formula__c",
                                          "AutoNumber__c"};
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            co_await h.generate(
                R"({"object":"Sim_Everything__c","kind":"create","count":300,"rate":0,"bulk":true})");
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            std::vector<std::string> mapped = fields;
            mapped.push_back("Id");
            co_await h.start(h.config(mapping_json("Sim_Everything__c", mapped, true)));
            co_await h.generate(
                R"({"object":"Sim_Everything__c","kind":"mixed","count":300,"rate":1000})");
            // Fields the comparison below reads (most changes leave Name alone), those whose
            // text both sides print alike.
            const std::vector<std::string> compared{"Name", "Checkbox__c", "Text__c"};
            bool ok = co_await converged(h, c, "Sim_Everything__c", compared, 60);
            REQUIRE(ok);
            // Value by value, in Postgres's own text, against what sfsim serves.
            auto want = co_await sim_rows(h, "Sim_Everything__c", fields);
            auto got = co_await must_query(
                c, "SELECT sfid, checkbox__c::text, number__c::text, datetime__c::text, "
                   "date__c::text, time__c::text, multipicklist__c, text__c FROM " +
                       h.schema + ".sim_everything__c");
            REQUIRE(static_cast<std::size_t>(got.rows()) == want.size());
            int checked = 0;
            for (int i = 0; i < got.rows(); ++i) {
                const std::string& row = want[std::string(got.value(i, 0))];
                INFO(row);
                auto has = [&](const std::string& field, int col) {
                    if (got.is_null(i, col))
                        return row.find(field + "=null|") != std::string::npos;
                    return true;
                };
                CHECK(has("Checkbox__c", 1));
                CHECK(has("DateTime__c", 3));
                if (!got.is_null(i, 1)) {
                    const bool t = got.value(i, 1) == "true";
                    CHECK(row.find(std::string("Checkbox__c=") + (t ? "true" : "false")) !=
                          std::string::npos);
                }
                if (!got.is_null(i, 7))
                    CHECK(row.find("Text__c=" + std::string(got.value(i, 7)) + "|") !=
                          std::string::npos);
                ++checked;
            }
            CHECK(checked > 0);
            co_await h.stop();
        }(),
        std::chrono::seconds(240));
}

TEST_CASE("changes made through the Bulk API without events are caught by polling",
          "[bridge][sync]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            cfg.max_batch = 2; // polled changes and deletes go two to a transaction
            co_await h.start(cfg);
            co_await h.send(http::verb::post, "/__sim/records/Contact?bulk=true",
                            R"([{"LastName":"Bulk one"},{"LastName":"Bulk two"},)"
                            R"({"LastName":"Bulk three"},{"LastName":"Bulk four"},)"
                            R"({"LastName":"Bulk five"}])");
            bool ok = co_await converged(h, c, "Contact", "LastName");
            CHECK(ok);
            std::string ids;
            const auto records = co_await sim_rows(h, "Contact", fields_LastName());
            for (const auto& [id, row] : records)
                ids += (ids.empty() ? "" : ",") + id;
            co_await h.send(http::verb::delete_, "/__sim/records/Contact?bulk=true&ids=" + ids, "");
            ok = co_await converged(h, c, "Contact", "LastName");
            CHECK(ok);
            auto left = co_await must_query(c, "SELECT count(*) FROM " + h.schema + ".contact");
            CHECK(left.value(0, 0) == "0");
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("a mapping with streaming off is kept in sync by polling alone", "[bridge][sync]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            co_await h.start(h.config(mapping_json("Lead", "Id,LastName,Company", false)));
            co_await h.send(http::verb::post, "/__sim/generate",
                            R"({"object":"Lead","kind":"mixed","count":300,"rate":1000})");
            bool ok = co_await converged(h, c, "Lead", "LastName");
            CHECK(ok);
            auto topics = co_await sim_rows(h, "PushTopic", fields_Name());
            CHECK(topics.empty()); // no topic for a polled mapping
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("a topic too long for its query fetches the records on notify", "[bridge][sync]") {
    const std::string wide = wide_object_schema();
    harness h([&](sim::simulator_config& c) { c.schema_files.push_back(wide); });
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            std::vector<std::string> fields{"Id", "Name"};
            for (int i = 0; i < 90; ++i)
                fields.push_back("A_Long_Descriptive_Field_Name_" + std::to_string(i) + "__c");
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(mapping_json("Wide_Object__c", fields, true));
            cfg.poll_interval = std::chrono::seconds(600);
            co_await h.start(cfg);
            auto topics = co_await sim_rows(h, "PushTopic", fields_Query());
            REQUIRE(topics.size() == 1);
            CHECK(topics.begin()->second == "Query=SELECT Id, SystemModstamp FROM Wide_Object__c|");
            co_await h.send(
                http::verb::post, "/__sim/generate",
                R"({"object":"Wide_Object__c","kind":"mixed","count":300,"rate":1000})");
            bool ok = co_await converged(h, c, "Wide_Object__c", "Name");
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("a restart resumes from the committed replay id and loses nothing", "[bridge][sync]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(mapping_json("Contact", "Id,LastName,Email", true));
            cfg.poll_interval = std::chrono::seconds(600); // the stream alone must resume
            co_await h.start(cfg);
            co_await h.send(http::verb::post, "/__sim/generate",
                            R"({"object":"Contact","kind":"mixed","count":3000,"rate":1500})");
            // Mid-stream: once the stream has committed a replay id (the load may have to be
            // retried on a slow machine), never after a fixed time.
            for (int i = 0; i < 1200; ++i) {
                auto r = co_await must_query(c, "SELECT 1 FROM " + h.schema +
                                                    "._sfbridge_state WHERE replay_id IS NOT NULL");
                if (r.rows() > 0)
                    break;
                co_await sleep_ms(50);
            }
            co_await h.stop(); // mid-stream
            auto mid =
                co_await must_query(c, "SELECT replay_id FROM " + h.schema + "._sfbridge_state");
            CHECK_FALSE(mid.is_null(0, 0));
            co_await sleep_ms(2000); // the rest of the changes happen while sfbridge is down
            co_await h.start(cfg);
            bool ok = co_await converged(h, c, "Contact", "LastName");
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("events lost past retention are recovered by polling from the high-water mark",
          "[bridge][sync]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            cfg.poll_interval = std::chrono::seconds(600);
            co_await h.start(cfg);
            co_await h.send(http::verb::post, "/__sim/records/Contact",
                            R"([{"LastName":"Before"}])");
            bool ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);
            co_await h.stop();
            co_await h.generate(R"({"object":"Contact","kind":"mixed","count":200,"rate":0})");
            co_await h.send(http::verb::post, "/__sim/faults/lose-retention", "");
            co_await h.start(cfg);
            ok = co_await converged(h, c, "Contact", "LastName");
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("expired tokens and forgotten CometD sessions do not stop the stream", "[bridge][sync]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            cfg.poll_interval = std::chrono::seconds(600);
            co_await h.start(cfg);
            co_await h.send(http::verb::post, "/__sim/generate",
                            R"({"object":"Contact","kind":"mixed","count":2000,"rate":1000})");
            co_await sleep_ms(500);
            co_await h.send(http::verb::post, "/__sim/faults/expire-tokens", "");
            co_await sleep_ms(500);
            co_await h.send(http::verb::post, "/__sim/faults/forget-clients", "");
            bool ok = co_await converged(h, c, "Contact", "LastName");
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("a malformed event is kept in the errors table and the stream goes on",
          "[bridge][sync]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            cfg.poll_interval = std::chrono::seconds(600);
            co_await h.start(cfg);
            // Until the stream is subscribed: the good record must come after the bad events,
            // through the stream, not through the first poll.
            for (int i = 0; i < 6000 && h.f.sim->cometd().subscription_count() == 0; ++i)
                co_await sleep_ms(20);
            REQUIRE(h.f.sim->cometd().subscription_count() > 0);
            co_await h.send(
                http::verb::post, "/__sim/streaming/inject",
                R"({"channel":"/topic/hc_Contact","type":"updated","sobject":)"
                R"({"Id":"003000000000001AAA","LastName":"X","SystemModstamp":"not a date"}})");
            co_await h.send(
                http::verb::post, "/__sim/streaming/inject",
                R"({"channel":"/topic/hc_Contact","type":"exploded","sobject":{"Id":"1"}})");
            co_await h.send(http::verb::post, "/__sim/records/Contact",
                            R"([{"LastName":"After the bad ones"}])");
            bool ok = co_await converged(h, c, "Contact", "LastName");
            CHECK(ok);
            ok = co_await eventually(c, "SELECT count(*) FROM " + h.schema + "._sfbridge_errors",
                                     "2", 60);
            CHECK(ok);
            auto errors = co_await must_query(c, "SELECT channel, replay_id, message FROM " +
                                                     h.schema + "._sfbridge_errors ORDER BY id");
            REQUIRE(errors.rows() == 2);
            CHECK(errors.value(0, 0) == "/topic/hc_Contact");
            CHECK_FALSE(errors.is_null(0, 1));
            CHECK(std::string(errors.value(0, 2)).find("SystemModstamp") != std::string::npos);
            CHECK(std::string(errors.value(1, 2)).find("exploded") != std::string::npos);
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("tombstones past their retention are pruned, recent ones kept", "[bridge][sync]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            co_await h.send(http::verb::post, "/__sim/records/Contact",
                            R"([{"LastName":"Old delete"},{"LastName":"Recent delete"}])");
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            co_await h.start(cfg);
            bool ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);
            auto rows = co_await sim_rows(h, "Contact", fields_LastName());
            std::string ids;
            for (const auto& [id, row] : rows)
                ids += (ids.empty() ? "" : ",") + id;
            co_await h.send(http::verb::delete_, "/__sim/records/Contact?ids=" + ids, "");
            ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);
            co_await h.stop();
            const std::string tombs = h.schema + "._sfbridge_deleted";
            auto n = co_await must_query(c, "SELECT count(*) FROM " + tombs);
            REQUIRE(n.value(0, 0) == "2");
            // A tombstone eight days old (of a record deleted long ago; the default retention
            // is seven days) beside the two recent ones.
            co_await must_exec(c, "INSERT INTO " + tombs +
                                      " VALUES ('Contact', '003000000000001AAA', (now() AT TIME "
                                      "ZONE 'utc') - interval '8 days')");
            co_await h.start(cfg);
            ok = co_await eventually(c, "SELECT count(*) FROM " + tombs, "2", 60);
            CHECK(ok);
            auto left = co_await must_query(c, "SELECT systemmodstamp > now() - interval '1 day' "
                                               "FROM " +
                                                   tombs);
            CHECK(left.value(0, 0) == "t");
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("sfbridge reload loads a mapping again while the engine runs", "[bridge][sync]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            co_await h.generate(
                R"({"object":"Contact","kind":"create","count":300,"rate":0,"bulk":true})");
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            cfg.poll_interval = std::chrono::seconds(600); // only the reload may repair the table
            cfg.max_batch = 3; // the reload deletes its seven ghosts three at a time
            co_await h.start(cfg);
            bool ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);
            // The table drifts from Salesforce behind sfbridge's back.
            const std::string t = h.schema + ".contact";
            co_await must_exec(
                c, "SET xmlbinary = hex; UPDATE " + t +
                       " SET lastname = 'Tampered' WHERE id = (SELECT min(id) FROM " + t +
                       "); DELETE FROM " + t + " WHERE id = (SELECT max(id) FROM " + t +
                       "); INSERT INTO " + t +
                       " (sfid, lastname, systemmodstamp) SELECT '003000000000' || lpad(i::text, "
                       "3, '0') || 'AAA', 'Ghost', '2000-01-01' FROM generate_series(1, 7) i; "
                       "RESET xmlbinary");
            const auto converged_now = co_await converged(h, c, "Contact", "LastName", 1);
            CHECK_FALSE(converged_now);
            // What `sfbridge reload Contact` does.
            co_await must_exec(c, "UPDATE " + h.schema +
                                      "._sfbridge_state SET load_state = 'reload' WHERE "
                                      "object_name = 'Contact'");
            ok = co_await converged(h, c, "Contact", "LastName");
            CHECK(ok);
            // The table converges a moment before the load marks itself done (the last
            // ghosts go in one transaction, the state in the next).
            ok = co_await eventually(c, "SELECT load_state FROM " + h.schema + "._sfbridge_state",
                                     "loaded", 60);
            CHECK(ok);
            // Streaming went on through it.
            co_await h.send(http::verb::post, "/__sim/generate",
                            R"({"object":"Contact","kind":"mixed","count":300,"rate":1000})");
            ok = co_await converged(h, c, "Contact", "LastName");
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("a mapping on Change Data Capture follows creates updates deletes and undeletes",
          "[bridge][sync]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            co_await h.generate(
                R"({"object":"Contact","kind":"create","count":200,"rate":0,"bulk":true})");
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            std::string json = mapping_json("Contact", "Id,LastName,Email", true);
            json.replace(json.find(R"("sf_polling_seconds":600)"), 24,
                         R"("sf_polling_seconds":600,"sfbridge_stream":"cdc")");
            auto cfg = h.config(json);
            cfg.poll_interval = std::chrono::seconds(600); // streaming alone must do it
            co_await h.start(cfg);
            REQUIRE(h.engine->resolved()[0].options.change_data_capture);
            bool ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);
            co_await live_changes_converge(h, c, 1000);
            auto deleted = co_await must_query(c, "SELECT count(*) FROM " + h.schema +
                                                      ".contact WHERE isdeleted IS NOT FALSE");
            CHECK(deleted.value(0, 0) == "0");
            CHECK(h.engine->stats()[0].events > 0);
            // No PushTopic was made for it.
            auto topics = co_await sim_rows(h, "PushTopic", fields_Name());
            CHECK(topics.empty());
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

// Issue 15 item 9: the local clock five minutes ahead of Salesforce's (sfsim's clock set back).
// The marks the load and the polls leave follow Salesforce's clock (its Date header), so a
// change that only a poll can find (the Bulk API raises no PushTopic event) is still found;
// with marks from the local clock the polls would start five minutes in Salesforce's future.
TEST_CASE("sfsim's clock 5 minutes behind: Bulk API changes are still polled", "[bridge][sync]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            co_await h.send(http::verb::put, "/__sim/clock", R"({"offsetMs":-300000})");
            co_await h.send(http::verb::post, "/__sim/records/Contact",
                            R"([{"LastName":"Before the start"}])");
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            co_await h.start(h.config(mapping_json("Contact", "Id,LastName", true)));
            bool ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);
            auto rows = co_await sim_rows(h, "Contact", fields_LastName());
            REQUIRE(rows.size() == 1);
            const std::string id = rows.begin()->first;
            co_await h.send(http::verb::patch, "/__sim/records/Contact?bulk=true",
                            R"([{"Id":")" + id + R"(","LastName":"Changed by Bulk"}])");
            co_await h.send(http::verb::post, "/__sim/records/Contact?bulk=true",
                            R"([{"LastName":"Created by Bulk"}])");
            ok = co_await converged(h, c, "Contact", "LastName");
            CHECK(ok);
            auto mark = co_await must_query(
                c, "SELECT poll_high_water < (now() at time zone 'utc') - interval '4 minutes' "
                   "FROM " +
                       h.schema + "._sfbridge_state");
            CHECK(mark.value(0, 0) == "t"); // Salesforce's time, not ours
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}
