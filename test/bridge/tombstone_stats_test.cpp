// The tombstone table grows from empty with every streamed delete; sfbridge analyzes it as it
// grows (bridge/analyze_trigger), so that the merge's prepared plans, made while it was empty,
// are made again with its size known (docs/decisions.md, issue 18).
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

TEST_CASE("sfbridge analyzes the tombstones once enough deletes have streamed in",
          "[bridge][sync]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            std::string contacts;
            for (int i = 0; i < 300; ++i)
                contacts += (i ? ",{" : "[{") + std::string("\"LastName\":\"Contact ") +
                            std::to_string(i) + "\"}";
            co_await h.send(http::verb::post, "/__sim/records/Contact", contacts + "]");
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            co_await h.start(cfg);
            bool ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);
            // ANALYZEs run by hand or by a session count apart from autovacuum's.
            const std::string analyzed = "SELECT (analyze_count > 0)::text FROM "
                                         "pg_stat_user_tables WHERE relid = '" +
                                         h.schema + "._sfbridge_deleted'::regclass";
            auto none = co_await must_query(c, analyzed);
            CHECK(none.value(0, 0) == "false"); // nothing deleted, nothing to analyze

            // 250 deletes, streamed in: over the 200 that call for the first ANALYZE.
            auto rows = co_await sim_rows(h, "Contact", fields_LastName());
            REQUIRE(rows.size() == 300);
            std::string ids;
            int n = 0;
            for (const auto& [id, row] : rows) {
                ids += (ids.empty() ? "" : ",") + id;
                if (++n % 50 == 0) {
                    co_await h.send(http::verb::delete_, "/__sim/records/Contact?ids=" + ids, "");
                    ids.clear();
                }
                if (n == 250)
                    break;
            }
            ok = co_await converged(h, c, "Contact", "LastName");
            REQUIRE(ok);
            auto tombs =
                co_await must_query(c, "SELECT count(*) FROM " + h.schema + "._sfbridge_deleted");
            CHECK(tombs.value(0, 0) == "250");
            // The statistics are flushed within a second or so of the ANALYZE.
            ok = co_await eventually(c, analyzed, "true", 60);
            CHECK(ok);
            auto seen = co_await must_query(c, "SELECT reltuples FROM pg_class WHERE oid = '" +
                                                   h.schema + "._sfbridge_deleted'::regclass");
            CHECK(std::stod(std::string(seen.value(0, 0))) >= 200);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}
