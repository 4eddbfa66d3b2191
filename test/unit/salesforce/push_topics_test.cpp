#include "salesforce/push_topics.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::salesforce;

TEST_CASE("PushTopic names are hc_ prefixed deterministic and at most 25 characters",
          "[unit][salesforce]") {
    CHECK(push_topic_name("Contact") == "hc_Contact");
    CHECK(push_topic_name("Sim_Everything__c") == "hc_Sim_Everything__c");
    const auto long1 = push_topic_name("Very_Long_Custom_Object_Name__c");
    const auto long2 = push_topic_name("Very_Long_Custom_Object_Name_Two__c");
    CHECK(long1.size() == 25);
    CHECK(long2.size() == 25);
    CHECK(long1 != long2);
    CHECK(long1.rfind("hc_Very_Long_", 0) == 0);
    CHECK(push_topic_name("Very_Long_Custom_Object_Name__c") == long1);
}

TEST_CASE("a PushTopic query names Id first, each field once, within 1,300 characters",
          "[unit][salesforce]") {
    std::string error;
    const auto topic = push_topic_query("Contact", {"LastName", "Email", "id", "lastname"}, error);
    REQUIRE(topic);
    CHECK(*topic == "SELECT Id, LastName, Email FROM Contact");
    std::vector<std::string> many(200, "Some_Long_Field_Name__c");
    for (std::size_t i = 0; i < many.size(); ++i)
        many[i] += std::to_string(i);
    CHECK_FALSE(push_topic_query("Contact", many, error));
    CHECK_THAT(error, Catch::Contains("over Salesforce's 1,300"));
    CHECK_FALSE(push_topic_query("Contact; DELETE", {"LastName"}, error));
    CHECK_THAT(error, Catch::Contains("not an object API name"));
    CHECK_FALSE(push_topic_query("Contact", {"Name FROM User"}, error));
    CHECK_THAT(error, Catch::Contains("not a field API name"));
}

TEST_CASE("the PushTopic plan creates keeps updates and removes only its own topics",
          "[unit][salesforce]") {
    std::vector<topic_spec> desired{{"Contact", {"Id", "LastName"}}, {"Lead", {"Id", "Company"}}};
    std::vector<existing_topic> existing{
        {"0IF1", "hc_Contact", "SELECT Id, LastName FROM Contact", "sfbridge: x", true},
        {"0IF2", "hc_Account", "SELECT Id FROM Account", "sfbridge: x", true},
        {"0IF3", "hc_123", "SELECT Id FROM Account", "", true}, // Heroku Connect's own
        {"0IF4", "other", "SELECT Id FROM Account", "sfbridge: x", true},
    };
    std::vector<std::string> errors;
    auto plan = plan_push_topics(desired, existing, errors);
    CHECK(errors.empty());
    REQUIRE(plan.size() == 3);
    // Removals first: at the org's limit, their slots are there for the creates.
    CHECK(plan[0].what == topic_action::kind::remove);
    CHECK(plan[0].id == "0IF2");
    CHECK(plan[1].what == topic_action::kind::keep);
    CHECK(plan[1].id == "0IF1");
    CHECK(plan[2].what == topic_action::kind::create);
    CHECK(plan[2].query == "SELECT Id, Company FROM Lead");

    existing[0].active = false;
    plan = plan_push_topics(desired, existing, errors);
    CHECK(plan[1].what == topic_action::kind::update);

    std::vector<topic_spec> bad{{"Contact; DROP", {"Id"}}};
    plan = plan_push_topics(bad, existing, errors);
    CHECK_FALSE(errors.empty());
}
