// Schema changes while sfbridge runs (issue 20), each made through sfsim's describe-change control
// API (/__sim/schema) as an admin makes it in Setup, against a running sfbridge and a real
// PostgreSQL:
//  - a field added to a loaded mapping: its column is added and back-filled, no reload;
//  - a mapped field deleted in Salesforce (or hidden from the integration user): the start goes
//    on without it and names it; found while running, sfbridge starts again without it;
//  - a field whose type changed: the column follows when it can, else the field is skipped.
#include "bridge/state_sql.hpp"
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {
std::string contact_mapping(const std::string& fields) {
    return mapping_json("Contact", fields, true);
}

asio::awaitable<std::string> one(pg::connection& c, const std::string& sql) {
    auto r = co_await must_query(c, sql);
    co_return r.rows() && !r.is_null(0, 0) ? std::string(r.value(0, 0)) : std::string("NULL");
}
} // namespace

TEST_CASE("a field added to a loaded mapping is back-filled while syncing goes on, without a "
          "reload",
          "[bridge][sync][schema_change]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto ids = co_await sim_create(h, "Contact",
                                           R"([{"LastName":"A","Department":"Sales"},)"
                                           R"({"LastName":"B","Department":"Support"}])");
            REQUIRE(ids.size() == 2);
            auto cfg = h.config(contact_mapping("Id,LastName"));
            std::string asked;
            co_await h.start(cfg, [&](bridge::engine& e) {
                e.on_schema_change([&](const std::string& what) { asked = what; });
            });
            const std::string t = h.schema + ".contact";
            const std::string state = h.schema + "._sfbridge_state";
            bool ok = co_await eventually(c, "SELECT count(*) FROM " + t, "2", 60);
            REQUIRE(ok);
            ok = co_await eventually(c, "SELECT load_state FROM " + state, "loaded", 60);
            REQUIRE(ok);
            const std::string loaded_at =
                co_await one(c, "SELECT load_finished_at::text FROM " + state);
            // `sfbridge reload --schema-only` asks the running process to start again (here
            // the engine reports it; `sfbridge run` re-executes itself).
            co_await must_exec(c, bridge::state_sql::request_schema_reload(h.schema));
            for (int i = 0; i < 1200 && asked.empty(); ++i)
                co_await sleep_ms(50);
            CHECK(asked == "sfbridge reload --schema-only");
            co_await h.stop();

            // Department joins the mapping; a change arrives while it is back-filled. No poll
            // overlap and no poll but the first: Department of A can come from the back-fill
            // only.
            auto second = h.config(contact_mapping("Id,LastName,Department"));
            second.poll_overlap = std::chrono::milliseconds(0);
            second.poll_interval = std::chrono::seconds(600);
            co_await h.start(second);
            co_await h.send(http::verb::patch, "/__sim/records/Contact",
                            R"([{"Id":")" + ids[1] + R"(","LastName":"B2"}])");
            auto dept = [&](const std::string& id) {
                return "SELECT coalesce(lastname, '') || '|' || coalesce(department, 'null') "
                       "FROM " +
                       t + " WHERE sfid = '" + id + "'";
            };
            ok = co_await eventually(c, dept(ids[0]), "A|Sales", 60);
            CHECK(ok);
            ok = co_await eventually(c, dept(ids[1]), "B2|Support", 60);
            CHECK(ok);
            ok = co_await eventually(c, "SELECT coalesce(backfill_columns, 'none') FROM " + state,
                                     "none", 60);
            CHECK(ok);
            // Not loaded again: the load's end is the first start's.
            const auto loaded_at_now =
                co_await one(c, "SELECT load_finished_at::text FROM " + state);
            CHECK(loaded_at_now == loaded_at);
            const auto state_now = co_await one(c, "SELECT load_state FROM " + state);
            CHECK(state_now == "loaded");
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("a mapped field deleted in Salesforce: the start goes on without it and names it, and "
          "one deleted while running makes sfbridge start again without it",
          "[bridge][sync][schema_change]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto ids = co_await sim_create(h, "Contact",
                                           R"([{"LastName":"A","Department":"Sales",)"
                                           R"("Title":"Boss"}])");
            REQUIRE(ids.size() == 1);
            const std::string mapping = contact_mapping("Id,LastName,Department,Title");
            auto cfg = h.config(mapping);
            cfg.poll_interval = std::chrono::milliseconds(300);
            std::string changed;
            auto watch = [&](bridge::engine& e) {
                e.on_schema_change([&](const std::string& what) { changed = what; });
            };
            co_await h.start(cfg, watch);
            const std::string t = h.schema + ".contact";
            bool ok = co_await eventually(c, "SELECT title FROM " + t, "Boss", 60);
            REQUIRE(ok);

            // Title goes while sfbridge runs: the next poll is refused (INVALID_FIELD), the
            // describe confirms it, and the engine asks to start again.
            co_await h.send(http::verb::delete_, "/__sim/schema/Contact/fields/Title", "");
            for (int i = 0; i < 1200 && changed.empty(); ++i)
                co_await sleep_ms(50);
            CHECK(changed.find("Title") != std::string::npos);
            co_await h.stop();

            // The new start: without Title, named in the log, /status and _sfbridge_errors; the
            // column and its values stay; the other fields sync.
            co_await h.start(h.config(mapping));
            REQUIRE_FALSE(h.engine->resolved()[0].field("Title"));
            bool named = false;
            for (const auto& m : h.engine->snapshot().mappings)
                for (const auto& w : m.schema_warnings)
                    named = named || w.find("field Title") != std::string::npos;
            CHECK(named);
            ok = co_await eventually(c,
                                     "SELECT count(*) FROM " + h.schema +
                                         "._sfbridge_errors WHERE message LIKE '%field Title%'",
                                     "1", 30);
            CHECK(ok);
            co_await h.send(http::verb::patch, "/__sim/records/Contact",
                            R"([{"Id":")" + ids[0] + R"(","Department":"Legal"}])");
            ok = co_await eventually(c, "SELECT department || '|' || title FROM " + t, "Legal|Boss",
                                     60);
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("a field whose type changed: its column follows to text or between numbers, and a "
          "change it cannot follow skips the field with a warning",
          "[bridge][sync][schema_change]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            co_await h.send(http::verb::post, "/__sim/schema/Contact/fields",
                            R"({"name":"Score__c","type":"double","precision":18,"scale":2})");
            auto ids = co_await sim_create(h, "Contact",
                                           R"([{"LastName":"A","Department":"Sales",)"
                                           R"("Score__c":7.5}])");
            REQUIRE(ids.size() == 1);
            const std::string mapping = contact_mapping("Id,LastName,Department,Score__c");
            co_await h.start(h.config(mapping));
            const std::string t = h.schema + ".contact";
            bool ok = co_await eventually(c, "SELECT score__c::text FROM " + t, "7.5", 60);
            REQUIRE(ok);
            co_await h.stop();

            // Score__c becomes text (the column follows); Department becomes a number (it
            // cannot: 'Sales' is no number), so it is skipped and its column kept.
            co_await h.send(http::verb::post, "/__sim/schema/Contact/fields",
                            R"({"name":"Score__c","type":"string","length":40})");
            co_await h.send(http::verb::post, "/__sim/schema/Contact/fields",
                            R"({"name":"Department","type":"double","precision":18,"scale":0})");
            co_await h.start(h.config(mapping));
            const std::string type_of = "SELECT data_type FROM information_schema.columns "
                                        "WHERE table_schema = '" +
                                        h.schema +
                                        "' AND table_name = 'contact' AND column_name = ";
            const auto score_type = co_await one(c, type_of + "'score__c'");
            CHECK(score_type == "character varying");
            const auto department_type = co_await one(c, type_of + "'department'");
            CHECK(department_type == "character varying");
            REQUIRE_FALSE(h.engine->resolved().empty());
            bool named = false;
            for (const auto& m : h.engine->snapshot().mappings)
                for (const auto& w : m.schema_warnings)
                    named = named || (w.find("field Department") != std::string::npos &&
                                      w.find("cannot hold") != std::string::npos);
            CHECK(named);
            co_await h.send(http::verb::patch, "/__sim/records/Contact",
                            R"([{"Id":")" + ids[0] + R"(","Score__c":"high","LastName":"A2"}])");
            ok = co_await eventually(c,
                                     "SELECT lastname || '|' || score__c || '|' || department "
                                     "FROM " +
                                         t,
                                     "A2|high|Sales", 60);
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}
