// The stream's grouped flush (table_writer::apply_group): several mappings' batches and
// positions in one transaction, each behind its own fence, all committed or none.
#include "bridge/change_batch.hpp"
#include "bridge/state_sql.hpp"
#include "bridge/table_writer.hpp"
#include "bridge/write_failure.hpp"
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

TEST_CASE("a grouped flush commits every mapping's position in one transaction, and a stale "
          "epoch in one of them or a lock held elsewhere commits none",
          "[bridge]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            co_await h.start(h.config(contact_and_account_read_write()));
            const std::string state = h.schema + "._sfbridge_state";
            bool ok = co_await eventually(
                app, "SELECT count(*) FROM " + state + " WHERE load_state = 'loaded'", "2", 60);
            REQUIRE(ok);
            const auto resolved = h.engine->resolved();
            co_await h.stop(); // nothing else writes the positions now

            auto epochs = co_await must_query(app, "SELECT object_name, leader_epoch FROM " +
                                                       state + " ORDER BY object_name");
            REQUIRE(epochs.rows() == 2);
            std::map<std::string, std::int64_t> epoch;
            for (int i = 0; i < epochs.rows(); ++i)
                epoch[std::string(epochs.value(i, 0))] =
                    std::stoll(std::string(epochs.value(i, 1)));
            std::vector<std::unique_ptr<bridge::change_batch>> batches;
            for (const auto& m : resolved)
                batches.push_back(std::make_unique<bridge::change_batch>(m));
            auto group = [&](std::int64_t replay, std::int64_t account_epoch_delta) {
                std::vector<bridge::table_writer::group_item> items;
                for (const auto& b : batches) {
                    bridge::position_update pos;
                    pos.event = true;
                    const auto& object = b->mapping().object_name;
                    pos.replay_id = replay + (object == "Account" ? 1 : 0);
                    pos.epoch = epoch[object] + (object == "Account" ? account_epoch_delta : 0);
                    items.push_back({b.get(), pos});
                }
                return items;
            };
            const std::string replay_ids =
                "SELECT string_agg(object_name || '=' || replay_id, ',' ORDER BY object_name) "
                "FROM " +
                state;

            bridge::table_writer w(h.f.io.get_executor(), h.schema);
            pg::diagnostics d;
            auto ec = co_await w.open(pg_dsn(), d);
            REQUIRE_FALSE(ec);
            const auto first = group(9001, 0); // (named: GCC 12 and temporaries in co_await)
            ec = co_await w.apply_group(first, d);
            CHECK_FALSE(ec);
            auto r = co_await must_query(app, replay_ids);
            CHECK(r.value(0, 0) == "Account=9002,Contact=9001");

            // Account's epoch is a former one: the fence refuses it, and Contact's position,
            // earlier in the same transaction, does not move either.
            const auto stale = group(9101, -1); // (named: GCC 12 and temporaries in co_await)
            ec = co_await w.apply_group(stale, d);
            CHECK(bridge::classify_write_failure(ec) == bridge::write_failure::fenced);
            CHECK(d.sqlstate == "SB001");
            r = co_await must_query(app, replay_ids);
            CHECK(r.value(0, 0) == "Account=9002,Contact=9001");

            // A lock held elsewhere (here: the write-back's over Account's creates) is not
            // waited for: the group fails at once and nothing of it commits.
            pg::connection other(h.f.io.get_executor());
            co_await must_connect(other);
            co_await must_exec(other, "SELECT pg_advisory_lock(" +
                                          bridge::state_sql::mapping_lock_key(h.schema, "Account") +
                                          ")");
            const auto waits = group(9151, 0); // (named: GCC 12 and temporaries in co_await)
            d = pg::diagnostics{};
            ec = co_await w.apply_group(waits, d);
            CHECK(d.sqlstate == "55P03");
            r = co_await must_query(app, replay_ids);
            CHECK(r.value(0, 0) == "Account=9002,Contact=9001");
            other.close(); // the lock goes with the session

            // The session goes on.
            d = pg::diagnostics{};
            const auto again = group(9201, 0); // (named: GCC 12 and temporaries in co_await)
            ec = co_await w.apply_group(again, d);
            CHECK_FALSE(ec);
            r = co_await must_query(app, replay_ids);
            CHECK(r.value(0, 0) == "Account=9202,Contact=9201");
            w.connection().close();
        }(),
        std::chrono::seconds(300));
}
