// sfbridge_read_only_fields (issue 20): a field synced into Postgres and never written back.
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

TEST_CASE("a field the mapping never writes back is synced in, not sent, and Salesforce's value "
          "comes back into the row",
          "[bridge][writeback][read_only_fields]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            std::string json = read_write(mapping_json("Contact", "Id,LastName,Email,Title", true));
            const std::string key = R"("sf_polling_seconds":600)";
            json.replace(json.find(key), key.size(),
                         key + R"(,"sfbridge_read_only_fields":["Email"])");
            auto cfg = h.config(json);
            cfg.poll_interval = std::chrono::seconds(600); // the re-read is asked for, not timed
            co_await h.start(cfg);
            REQUIRE(h.engine->resolved()[0].field("Email")->app_read_only);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            const std::vector<std::string> fields{"LastName", "Email", "Title"};

            // Salesforce's value is synced in.
            auto ids = co_await sim_create(h, "Contact",
                                           R"([{"LastName":"Owned","Email":"sf@example.com"}])");
            REQUIRE(ids.size() == 1);
            const std::string id = ids[0];
            const std::string row = "SELECT coalesce(email, 'null') || '|' || coalesce(title, "
                                    "'null') FROM " +
                                    t + " WHERE sfid = '" + id + "'";
            bool ok = co_await eventually(app, row, "sf@example.com|null", 60);
            REQUIRE(ok);

            // An UPDATE of that field alone sends nothing; the row gets Salesforce's value back.
            co_await must_exec(app, "UPDATE " + t + " SET email = 'app@example.com'");
            ok = co_await eventually(app, "SELECT string_agg(state, ',' ORDER BY id) FROM " + log,
                                     "SUCCESS", 60);
            CHECK(ok);
            ok = co_await eventually(app, row, "sf@example.com|null", 60);
            CHECK(ok);
            // With another field: only that one is sent.
            co_await must_exec(app,
                               "UPDATE " + t + " SET email = 'again@example.com', title = 'CTO'");
            const std::string want = "LastName=Owned|Email=sf@example.com|Title=CTO|";
            const auto rec = co_await sim_record_becomes(h, "Contact", fields, id, want);
            CHECK(rec == want);
            ok = co_await eventually(app, row, "sf@example.com|CTO", 60);
            CHECK(ok);
            // Each lost app value is in _sfbridge_conflicts, Salesforce's kept beside it.
            auto conflicts = co_await must_query(
                app,
                "SELECT field || ':' || winner || ':' || kept_value || ':' || lost_value FROM " +
                    h.schema + "._sfbridge_conflicts ORDER BY id");
            REQUIRE(conflicts.rows() == 2);
            CHECK(conflicts.value(0, 0) == "email:salesforce:sf@example.com:app@example.com");
            CHECK(conflicts.value(1, 0) == "email:salesforce:sf@example.com:again@example.com");

            // A row the app inserts: the record is made without the field, and the row follows.
            co_await must_exec(app,
                               "INSERT INTO " + t +
                                   " (lastname, email) VALUES ('Made here', 'mine@example.com')");
            ok = co_await eventually(app,
                                     "SELECT coalesce(email, 'null') || '|' || (sfid IS NOT NULL) "
                                     "FROM " +
                                         t + " WHERE lastname = 'Made here'",
                                     "null|true", 60);
            CHECK(ok);
            const auto same = co_await converged(h, app, "Contact", fields, 60);
            CHECK(same);
            auto states = co_await must_query(app, "SELECT count(*) FROM " + log +
                                                       " WHERE state <> 'SUCCESS'");
            CHECK(states.value(0, 0) == "0");
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}
