#include "bridge/doctor_checks.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::bridge::doctor;

namespace {

database_facts weak_role() {
    database_facts f;
    f.role = "app";
    f.database = "appdb";
    f.server_version = "15.4";
    return f;
}

const finding& named(const std::vector<finding>& all, const std::string& check) {
    for (const auto& f : all)
        if (f.check == check)
            return f;
    FAIL("no finding for " << check);
    return all.front();
}

} // namespace

TEST_CASE("doctor: the database's findings say what to grant", "[unit][doctor]") {
    auto f = weak_role();
    auto all = judge_database(f, "salesforce");
    CHECK(named(all, "schema privileges").what == level::fail);
    CHECK(named(all, "schema privileges")
              .message.find("GRANT CREATE ON DATABASE \"appdb\" TO \"app\"") != std::string::npos);
    CHECK(named(all, "hstore").what == level::fail);
    CHECK(named(all, "hstore").message.find("postgresql-contrib") != std::string::npos);
    CHECK(named(all, "fast loads").what == level::warn);
    CHECK(exit_code(all) == 1);

    f.may_create_in_database = true;
    f.hstore_available = true;
    all = judge_database(f, "salesforce");
    CHECK(named(all, "schema privileges").what == level::ok);
    // hstore goes in public: the right to create there is needed too.
    CHECK(named(all, "hstore").what == level::fail);
    f.may_create_in_public = true;
    CHECK(named(judge_database(f, "salesforce"), "hstore").what == level::ok);
    f.server_version_num = 120000; // not a trusted extension before 13
    CHECK(named(judge_database(f, "salesforce"), "hstore").what == level::fail);
    f.server_version_num = 150000;

    f.schema_exists = true;
    f.may_create_in_schema = true;
    f.tables_owned_by_others = 2;
    all = judge_database(f, "salesforce");
    CHECK(named(all, "schema privileges").what == level::fail);
    CHECK(named(all, "schema privileges").message.find("2 table(s)") != std::string::npos);
    f.superuser = true; // a superuser may alter any table
    CHECK(named(judge_database(f, "salesforce"), "schema privileges").what == level::ok);
}

TEST_CASE("doctor: an existing schema is adopted, or questioned without a trigger log",
          "[unit][doctor]") {
    auto f = weak_role();
    f.superuser = true;
    f.schema_exists = true;
    f.has_trigger_log = true;
    f.tables = {"account", "contact"};
    auto x = named(judge_database(f, "salesforce"), "existing schema");
    CHECK(x.what == level::ok);
    CHECK(x.message.find("2 mapped table(s) (account, contact)") != std::string::npos);
    f.has_trigger_log = false;
    x = named(judge_database(f, "salesforce"), "existing schema");
    CHECK(x.what == level::warn);
    CHECK(x.message.find("no _trigger_log") != std::string::npos);
}

TEST_CASE("doctor: API versions, clock and PushTopics", "[unit][doctor]") {
    const std::string versions = R"([{"version":"58.0"},{"version":"60.0"},{"version":"9.0"}])";
    CHECK(judge_api_version(versions, "60.0").what == level::ok);
    const auto missing = judge_api_version(versions, "61.0");
    CHECK(missing.what == level::fail);
    CHECK(missing.message.find("newest: 60.0") != std::string::npos); // numerically, not as text
    CHECK(judge_api_version("{", "60.0").what == level::fail);

    CHECK(judge_clock(std::nullopt).what == level::warn);
    CHECK(judge_clock(-3000).what == level::ok);
    CHECK(judge_clock(-30000).what == level::warn);
    CHECK(judge_clock(-30000).message.find("-30.0 s") != std::string::npos);

    const std::set<std::string> existing{"a", "b", "hc_Contact"};
    CHECK(judge_push_topics(existing, {"hc_Contact"}, false, 50).what == level::ok); // none new
    CHECK(judge_push_topics(existing, {"hc_Account"}, false, 50).what == level::fail);
    CHECK(judge_push_topics(existing, {"hc_Account"}, true, 50).what == level::ok);
    CHECK(judge_push_topics(existing, {"hc_Account"}, true, 5).what == level::warn);
    CHECK(judge_push_topics(existing, {"hc_Account"}, true, 3).what == level::fail);
}

TEST_CASE("doctor: CDC selection and the org's limits", "[unit][doctor]") {
    const std::string members =
        R"({"records":[{"SelectedEntity":"AccountChangeEvent"},{"SelectedEntity":"Thing__ChangeEvent"}]})";
    const auto cdc = judge_cdc(members, {"Account", "Thing__c", "Contact"});
    REQUIRE(cdc.size() == 3);
    CHECK(cdc[0].what == level::ok);
    CHECK(cdc[1].what == level::ok);
    CHECK(cdc[2].what == level::fail);
    CHECK(judge_cdc("[]", {"Account"}).front().what == level::fail);

    const std::string limits =
        R"({"DailyApiRequests":{"Max":1000,"Remaining":50},"DailyDurableStreamingApiEvents":{"Max":10,"Remaining":0},"DailyStreamingApiEvents":{"Max":10,"Remaining":10},"DailyDeliveredPlatformEvents":{"Max":10,"Remaining":10}})";
    auto all = judge_limits(limits, true, true);
    REQUIRE(all.size() == 3);
    CHECK(all[0].what == level::warn); // 5% left
    CHECK(all[1].what == level::warn); // spent: streaming stops, polls go on
    CHECK(all[1].message.find("DailyDurableStreamingApiEvents") != std::string::npos);
    CHECK(all[2].what == level::ok);
    all = judge_limits(R"({"DailyApiRequests":{"Max":1000,"Remaining":0}})", false, false);
    REQUIRE(all.size() == 1);
    CHECK(all[0].what == level::fail);

    const auto text = report(all);
    CHECK(text.starts_with("FAIL  API limit: 0 of 1000 left today (DailyApiRequests): "));
    CHECK(text.ends_with("1 checks: 1 FAIL, 0 WARN\n"));
}
