// Conflict detection against what Salesforce really changed: values that come back into a row
// from Salesforce but were never changed there are no conflict.
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

// Seed 1166 of the long campaign: Salesforce refused the app's write of a field (there, the
// record was deleted), so it kept the field's value; an echo of the record (there, its
// undelete; here, a Salesforce user's change of another field) brought that value back into
// the row after the app had written the field again. The app's new value lost a "conflict" to a
// value Salesforce never changed.
TEST_CASE("a value Salesforce kept when it refused the app's write is no conflict when it "
          "comes back",
          "[bridge][writeback][conflict]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            co_await h.send(
                http::verb::put, "/__sim/validation-rules",
                R"([{"object":"Contact","field":"Title","equals":"Refused","message":"No."}])");
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName,Title", true)));
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await must_exec(app,
                               "INSERT INTO " + t + " (lastname, title) VALUES ('A', 'Original')");
            bool ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'SUCCESS'", "1", 60);
            REQUIRE(ok);
            co_await must_exec(app, "UPDATE " + t + " SET title = 'Refused'");
            ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state = 'FAILED'", "1", 60);
            REQUIRE(ok);
            co_await h.stop();
            // The app writes the title again; then a Salesforce user renames the record, so
            // that its echo (Title still 'Original') reaches the row before the write is sent.
            co_await must_exec(app, "UPDATE " + t + " SET title = 'Second'");
            auto sfid = co_await must_query(app, "SELECT sfid FROM " + t);
            const std::string id(sfid.value(0, 0));
            co_await h.send(http::verb::patch, "/__sim/records/Contact",
                            R"([{"Id":")" + id + R"(","LastName":"Edited"}])");
            co_await h.start(cfg);
            ok = co_await eventually(
                app, "SELECT count(*)::text FROM " + log + " WHERE state IN ('NEW', 'PENDING')",
                "0", 60);
            REQUIRE(ok);
            const std::string want = "LastName=Edited|Title=Second|";
            const std::vector<std::string> fields = {"LastName", "Title"};
            const auto rec = co_await sim_record_becomes(h, "Contact", fields, id, want);
            CHECK(rec == want);
            auto conflicts = co_await must_query(app, "SELECT count(*) FROM " + h.schema +
                                                          "._sfbridge_conflicts");
            CHECK(conflicts.value(0, 0) == "0");
            auto states =
                co_await must_query(app, "SELECT string_agg(state, ',' ORDER BY id) FROM " + log);
            CHECK(states.value(0, 0) == "SUCCESS,FAILED,SUCCESS");
            const auto converged_now = co_await converged(h, app, "Contact", "Title");
            CHECK(converged_now);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}
