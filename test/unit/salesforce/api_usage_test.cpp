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

TEST_CASE("the API limit's back-off counts one episode once, however many calls were in flight",
          "[unit][salesforce]") {
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    const limit_backoff::clock::time_point t0{seconds(1000)};
    limit_backoff b(seconds(30), seconds(900));
    CHECK_FALSE(b.blocked(t0));
    // Four calls sent at t0 are all answered REQUEST_LIMIT_EXCEEDED: one back-off of 30 s.
    b.limited(t0, t0 + milliseconds(10));
    b.limited(t0, t0 + milliseconds(20));
    b.limited(t0 + milliseconds(5), t0 + milliseconds(30));
    CHECK(b.wait() == seconds(30));
    CHECK(b.blocked(t0 + seconds(30)));
    CHECK_FALSE(b.blocked(t0 + seconds(31)));
    // A call in flight since before the episode succeeds: the back-off stands.
    b.succeeded(t0);
    CHECK(b.wait() == seconds(30));
    // The first call after it is refused again: doubled.
    b.limited(t0 + seconds(31), t0 + seconds(32));
    CHECK(b.wait() == seconds(60));
    CHECK(b.blocked(t0 + seconds(91)));
    CHECK_FALSE(b.blocked(t0 + seconds(93)));
    // And capped.
    for (int i = 0; i < 10; ++i)
        b.limited(t0 + seconds(100 + 1000 * i), t0 + seconds(100 + 1000 * i) + milliseconds(1));
    CHECK(b.wait() == seconds(900));
    // A call sent after the last episode began succeeds: the next refusal starts at 30 s again.
    b.succeeded(t0 + seconds(20000));
    CHECK(b.wait() == seconds(0));
    b.limited(t0 + seconds(20001), t0 + seconds(20002));
    CHECK(b.wait() == seconds(30));
}
