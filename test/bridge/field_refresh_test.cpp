// "sfbridge_refresh_seconds" (issue 20): formula and roll-up fields change without the record's
// SystemModstamp changing, so neither the stream nor polling brings their new values; the
// mapping's refresh reads them again on its schedule and writes only the rows that changed.
// sfsim computes the formula and the roll-up (sim/formula.hpp, org_computed.cpp), defined here
// through its control API as an admin would in Setup.
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {
std::string with_options(std::string json, const std::string& options) {
    const std::string key = R"("sf_polling_seconds":600)";
    json.replace(json.find(key), key.size(), key + options);
    return json;
}

// The engine's last refresh of the first mapping, as /status shows it: "records|changed|api".
std::string last_refresh(const harness& h) {
    const auto s = h.engine->snapshot();
    for (const auto& m : s.mappings)
        if (m.refreshes && m.last_refresh.ended_ms)
            return std::to_string(m.last_refresh.records) + "|" +
                   std::to_string(m.last_refresh.changed) + "|" +
                   (m.last_refresh.bulk ? "bulk" : "rest");
    return "none";
}

// Waits until a refresh that ends after now reports `want`.
asio::awaitable<bool> refresh_reports(harness& h, const std::string& want, int seconds = 60) {
    std::int64_t after = 0;
    for (const auto& m : h.engine->snapshot().mappings)
        after = std::max(after, m.last_refresh.ended_ms);
    for (int i = 0; i < seconds * 20; ++i) {
        for (const auto& m : h.engine->snapshot().mappings)
            if (m.last_refresh.ended_ms > after && last_refresh(h) == want)
                co_return true;
        co_await sleep_ms(50);
    }
    UNSCOPED_INFO("the last refresh reported " << last_refresh(h) << ", not " << want);
    co_return false;
}
} // namespace

TEST_CASE("a formula edited in Salesforce reaches every row by the refresh alone, and a refresh "
          "that finds nothing changed writes no row",
          "[bridge][sync][refresh]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            co_await h.send(http::verb::post, "/__sim/schema/Contact/fields",
                            R"({"name":"Label__c","type":"string","length":255,)"
                            R"("formula":"LastName & ' / ' & Department"})");
            auto ids = co_await sim_create(h, "Contact",
                                           R"([{"LastName":"A","Department":"Sales"},)"
                                           R"({"LastName":"B","Department":"Support"},)"
                                           R"({"LastName":"C"}])");
            REQUIRE(ids.size() == 3);
            auto cfg = h.config(
                with_options(mapping_json("Contact", "Id,LastName,Department,Label__c", true),
                             R"(,"sfbridge_refresh_seconds":1)"));
            cfg.poll_interval = std::chrono::seconds(600); // nothing but the refresh
            co_await h.start(cfg);
            REQUIRE(h.engine->resolved()[0].field("Label__c")->sf.calculated);
            const std::string t = h.schema + ".contact";
            auto label = [&](const std::string& id) {
                return "SELECT label__c FROM " + t + " WHERE sfid = '" + id + "'";
            };
            bool ok = co_await eventually(c, label(ids[0]), "A / Sales", 60);
            REQUIRE(ok);
            ok = co_await eventually(c, label(ids[2]), "C / ", 60);
            REQUIRE(ok);
            // Stable values: a refresh reads all three and changes none, not even a row version.
            const std::string versions =
                "SELECT string_agg(xmin::text, ',' ORDER BY sfid) FROM " + t;
            const std::string stamps =
                "SELECT string_agg(systemmodstamp::text, ',' ORDER BY sfid) FROM " + t;
            ok = co_await refresh_reports(h, "3|0|rest");
            CHECK(ok);
            const auto xmin_before = std::string((co_await must_query(c, versions)).value(0, 0));
            const auto stamps_before = std::string((co_await must_query(c, stamps)).value(0, 0));
            ok = co_await refresh_reports(h, "3|0|rest");
            CHECK(ok);
            const auto xmin_after = std::string((co_await must_query(c, versions)).value(0, 0));
            CHECK(xmin_after == xmin_before);

            // An admin edits the formula: no record is saved, so no event and no poll sees it.
            co_await h.send(http::verb::post, "/__sim/schema/Contact/fields",
                            R"({"name":"Label__c","formula":"Department & ': ' & LastName"})");
            ok = co_await eventually(c, label(ids[0]), "Sales: A", 60);
            CHECK(ok);
            ok = co_await eventually(c, label(ids[1]), "Support: B", 60);
            CHECK(ok);
            ok = co_await eventually(c, label(ids[2]), ": C", 60);
            CHECK(ok);
            // SystemModstamp as it was: only the formula's values moved.
            const auto stamps_after = std::string((co_await must_query(c, stamps)).value(0, 0));
            CHECK(stamps_after == stamps_before);
            ok = co_await refresh_reports(h, "3|0|rest");
            CHECK(ok);
            auto state = co_await must_query(
                c, "SELECT (refreshed_at IS NOT NULL)::text || '|' || refresh_records FROM " +
                       h.schema + "._sfbridge_state WHERE object_name = 'Contact'");
            CHECK(std::string(state.value(0, 0)) == "true|3");
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("a roll-up summary's children arrive by the stream, its definition edited in Setup by "
          "the refresh, through Bulk API 2.0 above the bulk threshold",
          "[bridge][sync][refresh]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            co_await h.send(http::verb::post, "/__sim/schema/Account/fields",
                            R"({"name":"Deals__c","type":"double","precision":18,"scale":2,)"
                            R"("rollup":{"child":"Opportunity","via":"AccountId","op":"COUNT"}})");
            auto accounts = co_await sim_create(h, "Account", R"([{"Name":"One"},{"Name":"Two"}])");
            REQUIRE(accounts.size() == 2);
            auto cfg = h.config(with_options(mapping_json("Account", "Id,Name,Deals__c", true),
                                             R"(,"sfbridge_refresh_seconds":1)"));
            cfg.poll_interval = std::chrono::seconds(600);
            cfg.bulk_threshold = 1; // the refresh reads through Bulk API 2.0
            co_await h.start(cfg);
            const std::string deals = "SELECT deals__c::text FROM " + h.schema +
                                      ".account WHERE sfid = '" + accounts[0] + "'";
            bool ok = co_await eventually(c, deals, "0", 60);
            REQUIRE(ok);
            const std::string stamp = "SELECT systemmodstamp::text FROM " + h.schema +
                                      ".account WHERE sfid = '" + accounts[0] + "'";
            const auto stamp_loaded = std::string((co_await must_query(c, stamp)).value(0, 0));
            // Children under the first account: the parent is saved (Salesforce's order of
            // execution), so its change streams in like any other.
            (void)co_await sim_create(
                h, "Opportunity",
                R"([{"Name":"D1","StageName":"Prospecting","CloseDate":"2027-01-31","Amount":100,)"
                R"("AccountId":")" +
                    accounts[0] +
                    R"("},{"Name":"D2","StageName":"Prospecting","CloseDate":"2027-01-31",)"
                    R"("Amount":250,"AccountId":")" +
                    accounts[0] + R"("}])");
            ok = co_await eventually(c, deals, "2", 60);
            CHECK(ok);
            // The parent's own save brought it: a new SystemModstamp came with the count.
            const auto stamp_saved = std::string((co_await must_query(c, stamp)).value(0, 0));
            CHECK(stamp_saved != stamp_loaded);
            ok = co_await refresh_reports(h, "2|0|bulk");
            CHECK(ok);
            const auto stamp_before = std::string((co_await must_query(c, stamp)).value(0, 0));
            // The roll-up made a SUM of Amount in Setup: every parent recalculated, none saved.
            co_await h.send(http::verb::post, "/__sim/schema/Account/fields",
                            R"({"name":"Deals__c","rollup":{"child":"Opportunity",)"
                            R"("via":"AccountId","op":"SUM","field":"Amount"}})");
            ok = co_await eventually(c, deals, "350", 60);
            CHECK(ok);
            const auto stamp_after = std::string((co_await must_query(c, stamp)).value(0, 0));
            CHECK(stamp_after == stamp_before);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}
