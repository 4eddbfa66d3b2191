// More streamed mappings than the org's PushTopic allocation: the start succeeds, as many
// mappings stream as the org allows, and the rest are kept in sync by polling (issue 19).
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

TEST_CASE("past the org's PushTopic limit, the other mappings are polled and the start succeeds",
          "[bridge][sync]") {
    harness h([](sim::simulator_config& c) { c.retention.push_topic_limit = 1; });
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            co_await h.send(http::verb::post, "/__sim/records/Contact",
                            R"([{"LastName":"Before the start"}])");
            co_await h.send(http::verb::post, "/__sim/records/Account",
                            R"([{"Name":"Before the start"}])");
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(
                R"({"version":1,"mappings":[{"object_name":"Contact","config":{"access":"read_only",)"
                R"("sf_notify_enabled":true,"sf_polling_seconds":600,"fields":{"Id":{},"LastName":{}}}},)"
                R"({"object_name":"Account","config":{"access":"read_only","sf_notify_enabled":true,)"
                R"("sf_polling_seconds":1,"fields":{"Id":{},"Name":{}}}}]})");
            // Contact, first in the file, gets the one topic and polls every 10 minutes: its
            // change after the load can only come by its stream. Account polls every second.
            co_await h.start(cfg);
            CHECK(h.f.sim->streams().push_topic_count() == 1);
            const auto snap = h.engine->snapshot();
            REQUIRE(snap.mappings.size() == 2);
            for (const auto& m : snap.mappings) {
                INFO(m.object);
                CHECK(m.channel.empty() == (m.object == "Account"));
            }
            bool ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);
            ok = co_await converged(h, c, "Account", "Name");
            REQUIRE(ok);

            // Both follow changes made after the load: one by its stream, one by polling.
            co_await h.send(http::verb::post, "/__sim/records/Contact",
                            R"([{"LastName":"After the start"}])");
            co_await h.send(http::verb::post, "/__sim/records/Account",
                            R"([{"Name":"After the start"}])");
            ok = co_await converged(h, c, "Contact", "LastName");
            CHECK(ok);
            ok = co_await converged(h, c, "Account", "Name");
            CHECK(ok);
            auto rows = co_await must_query(c, "SELECT (SELECT count(*) FROM " + h.schema +
                                                   ".contact) + (SELECT count(*) FROM " + h.schema +
                                                   ".account)");
            CHECK(rows.value(0, 0) == "4");
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}
