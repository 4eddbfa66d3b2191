#include "salesforce/api_usage.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::salesforce;

TEST_CASE("Sforce-Limit-Info is read and usage is kept per day", "[unit][salesforce]") {
    auto a = parse_limit_info("api-usage=18/5000");
    REQUIRE(a);
    CHECK(a->used == 18);
    CHECK(a->max == 5000);
    auto b = parse_limit_info("api-usage=25/5000; api-bursts=1/750");
    REQUIRE(b);
    CHECK(b->used == 25);
    auto c = parse_limit_info("per-app-api-usage=17/250(appName=x); api-usage=3/100");
    REQUIRE(c);
    CHECK(c->used == 3);
    CHECK_FALSE(parse_limit_info("per-app-api-usage=17/250(appName=x)"));
    CHECK_FALSE(parse_limit_info("api-usage=x/5"));
    CHECK_FALSE(parse_limit_info("api-usage=1/-9")); // found by fuzzing

    api_usage u;
    u.set_budget("Contact", 2);
    CHECK(u.allow("Contact", 100));
    u.record_call("Contact", 100);
    u.record_call("Contact", 100);
    CHECK_FALSE(u.allow("Contact", 100));
    CHECK(u.allow("Account", 100));
    CHECK(u.allow("Contact", 101)); // a new day
    CHECK(u.calls_today("Contact", 100) == 2);
    CHECK(u.total_calls() == 2);
}
