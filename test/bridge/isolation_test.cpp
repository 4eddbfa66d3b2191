// Mappings are isolated: one whose initial load keeps failing is reported and goes on loading
// in the background while the others stream, poll and write back.
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

TEST_CASE("a mapping whose load keeps failing is reported and the others sync meanwhile",
          "[bridge][fault]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            co_await h.send(http::verb::post, "/__sim/records/Contact",
                            R"([{"LastName":"Waiting 1"},{"LastName":"Waiting 2"}])");
            // Every query about Contact fails (the load's count and pages), nothing else.
            co_await h.send(http::verb::put, "/__sim/faults",
                            R"({"afterApply":{"action":"status","status":500,"api":"query",)"
                            R"("object":"Contact"}})");
            auto cfg = h.config(contact_and_account_read_write());
            co_await h.start(cfg);
            const std::string state = h.schema + "._sfbridge_state";
            bool ok = co_await eventually(app,
                                          "SELECT load_state || ' ' || (load_attempts >= 3) FROM " +
                                              state + " WHERE object_name = 'Contact'",
                                          "failing true", 60);
            REQUIRE(ok);
            auto why = co_await must_query(app, "SELECT load_error FROM " + state +
                                                    " WHERE object_name = 'Contact'");
            CHECK(std::string(why.value(0, 0)).find("500") != std::string::npos);

            // Account streams and writes back meanwhile.
            co_await h.send(http::verb::post, "/__sim/records/Account", R"([{"Name":"Streamed"}])");
            co_await must_exec(app,
                               "INSERT INTO " + h.schema + ".account (name) VALUES ('Written')");
            ok = co_await eventually(
                app, "SELECT state FROM " + h.schema + "._trigger_log WHERE table_name = 'account'",
                "SUCCESS");
            CHECK(ok);
            const auto accounts_same = co_await converged(h, app, "Account", "Name");
            CHECK(accounts_same);

            // Once Salesforce answers, the mapping loads by itself and is polled.
            co_await h.send(http::verb::put, "/__sim/faults", "{}");
            ok = co_await eventually(app,
                                     "SELECT load_state || ' ' || load_attempts FROM " + state +
                                         " WHERE object_name = 'Contact'",
                                     "loaded 0", 120);
            CHECK(ok);
            const auto contacts_same = co_await converged(h, app, "Contact", "LastName", 60);
            CHECK(contacts_same);
            co_await h.stop();
        }(),
        std::chrono::seconds(300));
}
