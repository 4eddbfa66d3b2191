// Several sfbridge replicas on one database (issue 19): each mapping is led by one replica,
// the mappings spread evenly, a replica that stops hands its mappings to the others, and a
// leader cut off from its lock session is fenced while a standby takes over, with nothing lost
// or duplicated.
#include "bridge/change_batch.hpp"
#include "bridge/leadership_sql.hpp"
#include "bridge/table_writer.hpp"
#include "bridge/write_failure.hpp"
#include "bridge/writer_pool.hpp"
#include "pg/error.hpp"
#include "test/support/replica_support.hpp"
#include "test/support/writeback_support.hpp"

#include <array>

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {

std::string synthetic(int i) {
    return "Sim_Object_" + std::to_string(i) + "__c";
}

// Objects 1..n, read-write, streamed, Name only.
std::string synthetic_mappings(int n) {
    std::string out = R"({"version":1,"mappings":[)";
    for (int i = 1; i <= n; ++i)
        out += std::string(i > 1 ? "," : "") + R"({"object_name":")" + synthetic(i) +
               R"(","config":{"access":"read_write","sf_notify_enabled":true,)"
               R"("sf_polling_seconds":600,"fields":{"Id":{},"Name":{}}}})";
    return out + "]}";
}

// A record made in sfsim and a row inserted by the app, in every mapping.
asio::awaitable<void> write_both_ways(harness& h, pg::connection& app, int n,
                                      const std::string& tag) {
    for (int i = 1; i <= n; ++i) {
        co_await h.send(http::verb::post, "/__sim/records/" + synthetic(i),
                        R"([{"Name":"sf )" + tag + R"("}])");
        co_await must_exec(app, "INSERT INTO " + h.schema + ".sim_object_" + std::to_string(i) +
                                    "__c (name) VALUES ('app " + tag + "')");
    }
}

// Every mapping's table equals sfsim, nothing waits in the trigger log, and each mapping has
// `records` records in sfsim (so each app INSERT made one).
asio::awaitable<void> all_synced(harness& h, pg::connection& app, int n, std::size_t records) {
    bool ok = co_await eventually(
        app, "SELECT count(*) FROM " + h.schema + "._trigger_log WHERE state <> 'SUCCESS'", "0",
        90);
    CHECK(ok);
    for (int i = 1; i <= n; ++i) {
        INFO(synthetic(i));
        ok = co_await converged(h, app, synthetic(i), "Name", 60);
        CHECK(ok);
        const std::vector<std::string> fields{"Name"};
        const auto rows = co_await sim_rows(h, synthetic(i), fields);
        CHECK(rows.size() == records);
    }
}

} // namespace

TEST_CASE("two replicas share ten mappings evenly and the one left takes them all over",
          "[bridge][replicas]") {
    harness h([](sim::simulator_config& c) { c.synthetic_objects = 10; });
    replica b(h);
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            const auto cfgs = two_replicas(h, synthetic_mappings(10));
            co_await h.start(cfgs.first);
            co_await b.start(cfgs.second);
            const std::string state = h.schema + "._sfbridge_state";
            bool ok = co_await eventually(
                app,
                // (Ids are the names given with a random suffix.)
                "SELECT string_agg(r || '=' || n, ',' ORDER BY r) FROM (SELECT "
                "regexp_replace(leader_replica, '-[0-9a-f]{6}$', '') r, count(*) n FROM " +
                    state + " GROUP BY 1) x",
                "replica-a=5,replica-b=5", 90);
            REQUIRE(ok);
            ok = co_await leads_soon(*h.engine, 5);
            CHECK(ok);
            ok = co_await leads_soon(*b.engine, 5);
            CHECK(ok);
            // Each sees the other live, and who leads each mapping.
            const auto snap = h.engine->snapshot();
            REQUIRE(snap.other_replicas.size() == 1);
            CHECK(snap.other_replicas[0] == b.engine->replica());
            for (const auto& m : snap.mappings) {
                INFO(m.object);
                CHECK((m.leader == h.engine->replica()) == m.led_here);
            }

            co_await write_both_ways(h, app, 10, "one");
            co_await all_synced(h, app, 10, 2);

            // One replica stops: the other takes its mappings over and syncs them.
            co_await h.stop();
            ok = co_await eventually(app,
                                     "SELECT count(*) FROM " + state + " WHERE leader_replica = '" +
                                         b.engine->replica() + "'",
                                     "10", 90);
            REQUIRE(ok);
            ok = co_await leads_soon(*b.engine, 10);
            CHECK(ok);
            co_await write_both_ways(h, app, 10, "two");
            co_await all_synced(h, app, 10, 4);
            co_await b.stop();
        }(),
        std::chrono::seconds(600));
}

namespace {

// The replicas' leads, as counts sorted ("3,3,4"), from the state rows.
std::string lead_counts_sql(const harness& h) {
    return "SELECT string_agg(n::text, ',' ORDER BY n) FROM (SELECT count(*) n FROM " + h.schema +
           "._sfbridge_state WHERE leader_replica IS NOT NULL GROUP BY leader_replica) x";
}

// The state rows give the replicas `counts` leads, each replica syncs what its rows say and
// sees the others live, the same in three looks a second apart (no hand-over under way).
asio::awaitable<bool> settled(harness& h, pg::connection& app,
                              const std::array<const bridge::engine*, 3>& engines,
                              const std::string& counts) {
    int agreeing = 0;
    for (int i = 0; i < 120 && agreeing < 3; ++i) {
        co_await sleep_ms(1000);
        auto r = co_await must_query(app, lead_counts_sql(h));
        bool ok = r.value(0, 0) == counts;
        for (const auto* e : engines) {
            auto rows = co_await must_query(app, "SELECT count(*) FROM " + h.schema +
                                                     "._sfbridge_state WHERE leader_replica = '" +
                                                     e->replica() + "'");
            ok = ok && std::to_string(led_here(*e)) == rows.value(0, 0) &&
                 e->snapshot().other_replicas.size() == engines.size() - 1;
        }
        agreeing = ok ? agreeing + 1 : 0;
    }
    UNSCOPED_INFO("the leads did not settle on " << counts);
    co_return agreeing == 3;
}

std::size_t rows_loaded(const bridge::engine& e, const std::string& object) {
    for (const auto& m : e.snapshot().mappings)
        if (m.object == object)
            return m.stats.rows_loaded;
    return 0;
}

} // namespace

TEST_CASE("replicas joining take their share until three share ten mappings evenly and a reload "
          "is done once by the mapping's leader",
          "[bridge][replicas]") {
    harness h([](sim::simulator_config& c) { c.synthetic_objects = 10; });
    replica b(h), c(h);
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            const auto cfgs = two_replicas(h, synthetic_mappings(10));
            auto third = cfgs.second;
            third.replica_id = "replica-c";
            // One replica alone leads every mapping.
            co_await h.start(cfgs.first);
            bool ok = co_await eventually(app, lead_counts_sql(h), "10", 90);
            REQUIRE(ok);
            ok = co_await leads_soon(*h.engine, 10);
            REQUIRE(ok);
            co_await write_both_ways(h, app, 10, "one");
            co_await all_synced(h, app, 10, 2);

            // A second joins and takes half; a third joins and takes its share.
            co_await b.start(cfgs.second);
            ok = co_await eventually(app, lead_counts_sql(h), "5,5", 90);
            REQUIRE(ok);
            co_await c.start(third);
            const std::array<const bridge::engine*, 3> engines{h.engine.get(), b.engine.get(),
                                                               c.engine.get()};
            ok = co_await settled(h, app, engines, "3,3,4");
            REQUIRE(ok);
            co_await write_both_ways(h, app, 10, "two");
            co_await all_synced(h, app, 10, 4);

            // `sfbridge reload` of one mapping: its leader loads it again, the others do not.
            const std::string object = synthetic(7);
            std::size_t before = 0;
            for (const auto* e : engines)
                before += rows_loaded(*e, object);
            co_await must_exec(app, "UPDATE " + h.schema +
                                        "._sfbridge_state SET load_state = 'reload' WHERE "
                                        "object_name = '" +
                                        object + "'");
            ok = co_await eventually(app,
                                     "SELECT load_state FROM " + h.schema +
                                         "._sfbridge_state WHERE object_name = '" + object + "'",
                                     "loaded", 90);
            REQUIRE(ok);
            std::size_t after = 0;
            for (const auto* e : engines) {
                after += rows_loaded(*e, object);
                CHECK(e->fenced_refusals() == 0);
            }
            // Its four records, loaded once: twice would be eight.
            CHECK(after - before == 4);
            co_await write_both_ways(h, app, 10, "three");
            co_await all_synced(h, app, 10, 6);
            co_await c.stop();
            co_await b.stop();
        }(),
        std::chrono::seconds(600));
}

TEST_CASE("a leader cut off from its lock session is fenced while the standby takes over and no "
          "write is lost or made twice",
          "[bridge][replicas]") {
    harness h;
    replica b(h);
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            const auto cfgs =
                two_replicas(h, read_write(mapping_json("Contact", fields_LastName(), true)));
            co_await h.start(cfgs.first);
            const std::string state = h.schema + "._sfbridge_state";
            const std::string epoch_sql =
                "SELECT leader_epoch FROM " + state + " WHERE object_name = 'Contact'";
            bool ok = co_await eventually(
                app, "SELECT leader_replica FROM " + state + " WHERE object_name = 'Contact'",
                h.engine->replica(), 60);
            REQUIRE(ok);
            ok = co_await leads_soon(*h.engine, 1);
            REQUIRE(ok);
            co_await b.start(cfgs.second); // one mapping, two replicas: b stands by
            auto epoch = co_await must_query(app, epoch_sql);
            const std::string first_epoch(epoch.value(0, 0));

            // a's creates are in Salesforce, their answer 3 s away, a holding the mapping's
            // writer lock over them, when its lock session ends.
            co_await h.send(http::verb::put, "/__sim/faults",
                            R"({"afterApply":{"action":"delay","delayMs":3000,)"
                            R"("api":"collections","object":"Contact","count":1}})");
            const std::string contact = h.schema + ".contact";
            co_await must_exec(app, "INSERT INTO " + contact +
                                        " (lastname) SELECT 'row ' || i FROM generate_series(1, "
                                        "30) i");
            const auto held = co_await sim_holds(h, "Contact", 30);
            REQUIRE(held);
            auto killed = co_await must_query(
                app, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                     "application_name = '" +
                         bridge::leadership_sql::lock_session_name(h.engine->replica()) + "'");
            CHECK(killed.value(0, 0) == "1");
            // The app goes on writing: new rows, and later versions of earlier ones.
            for (int i = 31; i <= 90; ++i) {
                co_await must_exec(app, "INSERT INTO " + contact + " (lastname) VALUES ('row " +
                                            std::to_string(i) + "')");
                if (i % 3 == 0)
                    co_await must_exec(app, "UPDATE " + contact + " SET lastname = 'row " +
                                                std::to_string(i - 30) +
                                                " v2' WHERE lastname = 'row " +
                                                std::to_string(i - 30) + "'");
            }
            // A new leader took over (a new epoch; whichever replica won the race), and every
            // write reached Salesforce once, in order.
            ok = co_await eventually(app,
                                     "SELECT leader_epoch > " + first_epoch + " FROM " + state +
                                         " WHERE object_name = 'Contact'",
                                     "t", 60);
            REQUIRE(ok);
            ok = co_await eventually(
                app, "SELECT count(*) FROM " + h.schema + "._trigger_log WHERE state <> 'SUCCESS'",
                "0", 90);
            CHECK(ok);
            ok = co_await converged(h, app, "Contact", "LastName", 60);
            CHECK(ok);
            const std::vector<std::string> fields{"LastName"};
            const auto records = co_await sim_rows(h, "Contact", fields);
            CHECK(records.size() == 90); // each INSERT one record, none twice
            std::map<std::string, int> by_name;
            for (const auto& [id, row] : records)
                ++by_name[row];
            CHECK(by_name.size() == 90);
            for (const auto& [row, count] : by_name) {
                INFO(row);
                CHECK(count == 1);
            }
            auto v2 = co_await must_query(app, "SELECT count(*) FROM " + contact +
                                                   " WHERE lastname LIKE '% v2'");
            CHECK(v2.value(0, 0) == "20");

            // A writer holding the former epoch is refused by the fence: the stream's and the
            // pollers' transactions (the write-back's recording passes the same function).
            bridge::table_writer w(h.f.io.get_executor(), h.schema);
            pg::diagnostics d;
            auto ec = co_await w.open(pg_dsn(), d);
            REQUIRE_FALSE(ec);
            const bridge::change_batch nothing(h.engine->resolved().at(0));
            bridge::position_update stale;
            stale.epoch = std::stoll(first_epoch);
            ec = co_await w.apply(nothing, stale, d);
            CHECK(bridge::classify_write_failure(ec) == bridge::write_failure::fenced);
            CHECK(d.sqlstate == "SB001");
            w.connection().close();

            // One replica leads; the other stands by, running.
            CHECK(h.running);
            CHECK(*b.running);
            ok = co_await one_leads(*h.engine, *b.engine);
            CHECK(ok);
            co_await b.stop();
            co_await h.stop();
        }(),
        std::chrono::seconds(600));
}

TEST_CASE("sixty mappings on one replica use no more Postgres connections than --pg-connections "
          "and the two dedicated ones",
          "[bridge][replicas]") {
    harness h([](sim::simulator_config& c) { c.synthetic_objects = 60; });
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            pg::connection::reset_peak(); // this test's own session: 1
            const std::size_t own = pg::connection::open_now();
            auto cfg = h.config(synthetic_mappings(60));
            cfg.pg_connections = 5;
            co_await h.start(cfg);
            // Every mapping loaded and polled (60 pollers taking turns on three sessions).
            const std::string state = h.schema + "._sfbridge_state";
            bool ok = co_await eventually(app,
                                          "SELECT count(*) FROM " + state +
                                              " WHERE load_state = 'loaded' AND leader_replica "
                                              "IS NOT NULL",
                                          "60", 180);
            REQUIRE(ok);
            for (int i = 0; i < 1200; ++i) {
                const auto snap = h.engine->snapshot();
                if (std::all_of(snap.mappings.begin(), snap.mappings.end(),
                                [](const auto& m) { return m.stats.polls > 1; }))
                    break;
                co_await sleep_ms(100);
            }
            for (const auto& m : h.engine->snapshot().mappings) {
                INFO(m.object);
                CHECK(m.stats.polls > 1);
            }
            // Both directions still work, on a few of them.
            for (int i : {1, 30, 60}) {
                co_await h.send(http::verb::post, "/__sim/records/" + synthetic(i),
                                R"([{"Name":"from Salesforce"}])");
                co_await must_exec(app, "INSERT INTO " + h.schema + ".sim_object_" +
                                            std::to_string(i) +
                                            "__c (name) VALUES ('from the app')");
            }
            ok = co_await eventually(
                app, "SELECT count(*) FROM " + h.schema + "._trigger_log WHERE state <> 'SUCCESS'",
                "0", 90);
            CHECK(ok);
            for (int i : {1, 30, 60}) {
                ok = co_await converged(h, app, synthetic(i), "Name", 60);
                CHECK(ok);
            }
            // The stream's writer, control's session and 3 shared, plus the write-back's
            // LISTEN and the lock session.
            INFO("peak " << pg::connection::open_peak() << " with " << own << " of the test's");
            CHECK(pg::connection::open_peak() <= own + 5 + 2);
            CHECK(h.engine->pool()->size() == 3);
            co_await h.stop();
        }(),
        std::chrono::seconds(600));
}
