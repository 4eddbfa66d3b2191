// "sfbridge_deletes": "soft" (issue 20): a deleted record's row stays, marked, and an undelete
// clears the mark; whether the delete comes by the stream, by polling, or by a reload.
#include "test/support/bridge_harness.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {
// "isdeleted|deleted_at is set" of the row of record `id`, or "none".
std::string mark_of(const harness& h, const std::string& id) {
    return "SELECT coalesce((SELECT isdeleted::text || '|' || (sfbridge_deleted_at IS NOT NULL)"
           "::text FROM " +
           h.schema + ".contact WHERE sfid = '" + id + "'), 'none')";
}
} // namespace

TEST_CASE("a mapping with soft deletes keeps deleted records' rows, marked, and undeletes clear "
          "the mark",
          "[bridge][sync][soft_deletes]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto ids = co_await sim_create(
                h, "Contact",
                R"([{"LastName":"Streamed"},{"LastName":"Polled"},{"LastName":"Stays"}])");
            REQUIRE(ids.size() == 3);
            std::string json = mapping_json("Contact", "Id,LastName", true);
            const std::string key = R"("sf_polling_seconds":600)";
            json.replace(json.find(key), key.size(), key + R"(,"sfbridge_deletes":"soft")");
            auto cfg = h.config(json);
            cfg.poll_interval = std::chrono::seconds(1); // deletes without events come by polls
            co_await h.start(cfg);
            for (const auto& id : ids) {
                const bool loaded = co_await eventually(c, mark_of(h, id), "false|false", 60);
                REQUIRE(loaded);
            }

            // A delete with its event, then the undelete.
            co_await h.send(http::verb::delete_, "/__sim/records/Contact?ids=" + ids[0], "");
            bool ok = co_await eventually(c, mark_of(h, ids[0]), "true|true", 60);
            CHECK(ok);
            auto at =
                co_await must_query(c, "SELECT sfbridge_deleted_at = systemmodstamp FROM " +
                                           h.schema + ".contact WHERE sfid = '" + ids[0] + "'");
            CHECK(at.value(0, 0) == "t"); // the delete's time, as Salesforce stamped it
            co_await h.send(http::verb::post, "/__sim/records/Contact/" + ids[0] + "/undelete", "");
            ok = co_await eventually(c, mark_of(h, ids[0]), "false|false", 60);
            CHECK(ok);

            // A delete over the Bulk API (no event): found by polling.
            co_await h.send(http::verb::delete_, "/__sim/records/Contact?bulk=true&ids=" + ids[1],
                            "");
            ok = co_await eventually(c, mark_of(h, ids[1]), "true|true", 60);
            CHECK(ok);
            co_await h.send(http::verb::post,
                            "/__sim/records/Contact/" + ids[1] + "/undelete?bulk=true", "");
            ok = co_await eventually(c, mark_of(h, ids[1]), "false|false", 60);
            CHECK(ok);

            // A row of a record Salesforce no longer has at all (purged from the recycle bin):
            // a reload marks it instead of removing it.
            const std::string ghost = "003000000000777AAA";
            co_await must_exec(c, "INSERT INTO " + h.schema +
                                      ".contact (sfid, lastname, systemmodstamp) VALUES ('" +
                                      ghost + "', 'Ghost', '2000-01-01')");
            co_await must_exec(c, "UPDATE " + h.schema +
                                      "._sfbridge_state SET load_state = 'reload' WHERE "
                                      "object_name = 'Contact'");
            ok = co_await eventually(c, "SELECT load_state FROM " + h.schema + "._sfbridge_state",
                                     "loaded", 60);
            CHECK(ok);
            ok = co_await eventually(c, mark_of(h, ghost), "true|true", 60);
            CHECK(ok);
            // Nothing else was touched, and no row went.
            auto stays = co_await must_query(c, mark_of(h, ids[2]));
            CHECK(stays.value(0, 0) == "false|false");
            auto rows = co_await must_query(c, "SELECT count(*) FROM " + h.schema + ".contact");
            CHECK(rows.value(0, 0) == "4");
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}
