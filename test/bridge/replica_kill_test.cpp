// Two sfbridge executables on one database (issue 19): the leader SIGKILLed while changes flow
// both ways; the standby takes the mapping over and nothing is lost, made twice or reordered.
#include "test/support/replica_support.hpp"
#include "test/support/sfbridge_child.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

TEST_CASE("SIGKILL of the leader during changes both ways: the standby takes over and each app "
          "write reaches Salesforce once and in order",
          "[bridge][fault][replicas]") {
    harness h;
    const std::string mappings =
        write_mappings(read_write(mapping_json("Contact", fields_LastName(), true)));
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            const std::string state = h.schema + "._sfbridge_state";
            const std::string contact = h.schema + ".contact";
            child a(h, mappings);
            bool ok = co_await eventually(app,
                                          "SELECT count(*) FROM pg_tables WHERE schemaname = '" +
                                              h.schema + "' AND tablename = 'contact'",
                                          "1", 60);
            REQUIRE(ok);
            ok = co_await eventually(
                app, "SELECT leader_epoch FROM " + state + " WHERE object_name = 'Contact'", "1",
                60);
            REQUIRE(ok);
            child b(h, mappings); // stands by: one mapping, led by a
            ok = co_await eventually(app,
                                     "SELECT count(*) FROM " + h.schema +
                                         "._sfbridge_replicas WHERE pid = " + std::to_string(b.pid),
                                     "1", 60);
            REQUIRE(ok);
            co_await h.send(http::verb::post, "/__sim/generate",
                            R"({"object":"Contact","kind":"mixed","count":3000,"rate":500})");
            // The app: 120 rows, and a second version of every third one, a's SIGKILL at 40.
            co_await app_burst(app, contact, 120, [&](int i) -> asio::awaitable<void> {
                if (i == 40) {
                    const int rc = co_await a.kill_and_wait(SIGKILL);
                    CHECK(rc == 128 + SIGKILL);
                }
                co_await sleep_ms(10);
            });
            ok = co_await eventually(
                app, "SELECT leader_epoch >= 2 FROM " + state + " WHERE object_name = 'Contact'",
                "t", 60);
            REQUIRE(ok);
            co_await app_burst_synced(h, app, contact, 120);
            const int rc = co_await b.kill_and_wait(SIGTERM);
            CHECK(rc == 0);
        }(),
        std::chrono::seconds(400));
}
