#include "bridge/mapping_plan.hpp"
#include "test/support/describes.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;
using sfbridge::test::describe_of;

namespace {
mappings::resolved_mapping contact(std::int64_t polling, bool isdeleted_field = true,
                                   const char* filter = nullptr) {
    mappings::mapping m;
    m.object_name = "Contact";
    m.sf_notify_enabled = true;
    m.sf_polling_seconds = polling;
    for (const char* f : {"Id", "LastName", "Email"})
        m.fields.emplace(f, mappings::json_value::object{});
    if (filter)
        m.extra_config["sfbridge_filter"] = mappings::json_value(std::string(filter));
    std::vector<std::string> errors, warnings;
    auto r = mappings::resolve_mapping(m, describe_of("Contact"), errors, warnings);
    REQUIRE(r);
    r->has_isdeleted = isdeleted_field;
    return *r;
}

bool holds(const std::string& report, const std::string& line) {
    INFO(report);
    return report.find(line) != std::string::npos;
}
} // namespace

TEST_CASE("polling costs two queries a poll, three with a row filter, one without IsDeleted",
          "[unit][bridge][mapping_plan]") {
    CHECK(bridge::polling_calls_per_day(contact(600)) == 288);
    CHECK(bridge::polling_calls_per_day(contact(600, false)) == 144);
    CHECK(bridge::polling_calls_per_day(contact(600, true, "Email != null")) == 432);
    CHECK(bridge::polling_calls_per_day(contact(7)) == 12343 * 2); // ceil(86400 / 7) polls
}

TEST_CASE("the plan says what a run would do to the table, the PushTopic and the load",
          "[unit][bridge][mapping_plan]") {
    const auto m = contact(600);
    bridge::plan_settings s;
    s.schema = "salesforce";
    bridge::org_now org;
    org.topics.push_back({salesforce::topic_action::kind::create, "", "Contact", "hc_Contact",
                          "SELECT Id, Email, LastName FROM Contact", false});
    org.topics.push_back(
        {salesforce::topic_action::kind::remove, "0IF1", "Lead", "hc_Lead", "", false});
    org.daily_api_max = 15000;
    org.daily_api_remaining = 14000;

    bridge::mapping_now fresh{&m, {}, 25000};
    auto report = bridge::plan_report(s, {fresh}, org);
    CHECK(holds(report, "Contact (read_only)\n"));
    CHECK(holds(report, "table salesforce.contact: create, 5 mapped columns"));
    CHECK(holds(report, "PushTopic hc_Contact: create"));
    CHECK(holds(report, "initial load: 25,000 records by Bulk API 2.0, about 6 API calls"));
    CHECK(holds(report, "polling: every 600 s, 288 API calls a day"));
    CHECK(holds(report, "PushTopic hc_Lead: delete"));
    CHECK(holds(report, "API calls: 288 a day for polling, and about 6 once for the loads; the "
                        "org allows 15,000 a day (14,000 left now) (2% of it for polling)"));
    CHECK(holds(report, "Nothing was changed."));

    // A table that exists, one column short and one too narrow, loaded: nothing to load.
    bridge::mapping_now loaded{&m, {}, std::nullopt};
    loaded.table.exists = true;
    loaded.table.loaded = true;
    loaded.table.columns = {
        {"sfid", 18}, {"lastname", 40}, {"systemmodstamp", 0}, {"isdeleted", 0}};
    org.topics.front().what = salesforce::topic_action::kind::keep;
    report = bridge::plan_report(s, {loaded}, org);
    CHECK(holds(report, "table salesforce.contact: add email varchar(80); widen lastname from "
                        "varchar(40) to varchar(80)"));
    CHECK(holds(report, "PushTopic hc_Contact: up to date"));
    CHECK(holds(report, "initial load: none, loaded already"));

    // A field added since the load: its column is back-filled, no load.
    loaded.table.backfill = {"email"};
    loaded.records = 4100;
    report = bridge::plan_report(s, {loaded}, org);
    CHECK(holds(report, "initial load: none, loaded already; back-fill of the added columns "
                        "(email) while syncing goes on: 4,100 records by REST, about 4 API calls"));
    // Its row filter changed since the load: it loads again, by REST under the threshold.
    loaded.table.backfill.clear();
    loaded.table.reload = true;
    report = bridge::plan_report(s, {loaded}, org);
    CHECK(holds(report,
                "loads again (its row filter changed): 4,100 records by REST, about 4 API calls"));

    // More than the org allows.
    const auto often = contact(1);
    bridge::mapping_now busy{&often, loaded.table, std::nullopt};
    busy.table.reload = false;
    report = bridge::plan_report(s, {busy}, org);
    CHECK(holds(report, "172,800 a day for polling; the org allows 15,000 a day (14,000 left "
                        "now): MORE THAN THE ORG ALLOWS"));
}

TEST_CASE("a refresh of formula fields costs a count and a page per 2,000 records each time, and "
          "is counted with polling",
          "[unit][bridge][mapping_plan]") {
    auto m = contact(600);
    m.options.refresh_seconds = 3600;
    CHECK(bridge::refresh_calls_per_day(m, 5000) == 0); // no calculated field: no refresh
    for (auto& f : m.fields)
        if (f.column == "email")
            f.sf.calculated = true;
    CHECK(bridge::refresh_calls_per_day(m, 5000) == 24 * (1 + 3));
    const bridge::plan_settings s{"salesforce", 10000};
    bridge::mapping_now x{&m, {}, 5000};
    x.table.exists = true;
    x.table.loaded = true;
    CHECK(bridge::needs_count(x));
    const auto report = bridge::plan_report(s, {x}, {});
    CHECK(holds(report, "refresh of formula and roll-up fields: every 3600 s, 96 API calls a day"));
    CHECK(holds(report, "API calls: 384 a day for polling and refreshes"));
}
