// What sfbridge keeps for people (the trigger-log archive, conflicts, errors) is pruned past
// its retention, by each mapping's poller; refusals still to be retried are kept.
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

TEST_CASE("the archive, conflicts and errors are pruned past their retention",
          "[bridge][retention]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(read_write(mapping_json("Contact", "Id,LastName", true)));
            co_await h.start(cfg); // provisions the tables
            co_await h.stop();
            const std::string s = h.schema;
            // Two of each: one a day and a half old, one fresh; and an old refusal not yet in.
            co_await must_exec(
                app,
                "INSERT INTO " + s +
                    "._trigger_log_archive (id, created_at, updated_at, state, action, "
                    "table_name, record_id) VALUES (1001, now() - interval '36 hours', now() - "
                    "interval '36 hours', 'SUCCESS', 'INSERT', 'contact', 1), (1002, now(), "
                    "now(), 'SUCCESS', 'INSERT', 'contact', 2), (1003, now() - interval '36 "
                    "hours', now(), 'SUCCESS', 'INSERT', 'account', 3)");
            co_await must_exec(
                app, "INSERT INTO " + s +
                         "._sfbridge_conflicts (detected_at, object_name, table_name, field, "
                         "winner) VALUES (now() - interval '36 hours', 'Contact', 'contact', "
                         "'lastname', 'salesforce'), (now(), 'Contact', 'contact', 'lastname', "
                         "'salesforce')");
            co_await must_exec(
                app, "INSERT INTO " + s +
                         "._sfbridge_errors (created_at, object_name, sfid, message, retry) VALUES "
                         "(now() - interval '36 hours', 'Contact', '003000000000001AAA', 'old', "
                         "false), (now(), 'Contact', '003000000000002AAA', 'new', false), (now() "
                         "- interval '36 hours', 'Contact', '003000000000003AAA', 'refused', "
                         "true)");
            cfg.retention = std::chrono::hours(24);
            co_await h.start(cfg); // the first poll prunes
            // The archive is pruned last.
            const bool pruned = co_await eventually(
                app, "SELECT count(*)::text FROM " + s + "._trigger_log_archive", "2", 60);
            REQUIRE(pruned);
            auto conflicts =
                co_await must_query(app, "SELECT count(*) FROM " + s + "._sfbridge_conflicts");
            CHECK(conflicts.value(0, 0) == "1");
            auto left = co_await must_query(
                app, "SELECT (SELECT string_agg(id::text, ',' ORDER BY id) FROM " + s +
                         "._trigger_log_archive), (SELECT string_agg(message, ',' ORDER BY id) "
                         "FROM " +
                         s + "._sfbridge_errors)");
            // The other table's archive is its own mapping's to prune (none here).
            CHECK(left.value(0, 0) == "1002,1003");
            // The refusal stays until it goes in (here its record does not exist: the retry
            // finds it gone, resolves it, and the next prune takes it).
            CHECK(std::string(left.value(0, 1)).find("new") != std::string::npos);
            CHECK(std::string(left.value(0, 1)).find("old") == std::string::npos);
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}
