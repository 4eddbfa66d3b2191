#include "bridge/sf_clock.hpp"

#include <catch2/catch.hpp>

namespace bridge = sfbridge::bridge;

TEST_CASE("Salesforce's clock offset comes from its Date header", "[unit][bridge]") {
    // 1994-11-06 08:49:37 UTC is 784111777000 ms.
    CHECK(bridge::clock_offset(784111777000, "Sun, 06 Nov 1994 08:49:37 GMT") == 0);
    // Under 2 s is within the header's whole seconds and the network's delay: none.
    CHECK(bridge::clock_offset(784111778400, "Sun, 06 Nov 1994 08:49:37 GMT") == 0);
    CHECK(bridge::clock_offset(784111775600, "Sun, 06 Nov 1994 08:49:37 GMT") == 0);
    // Our clock five minutes ahead: Salesforce is 300,000 ms behind (from the middle of its
    // second).
    CHECK(bridge::clock_offset(784112077000, "Sun, 06 Nov 1994 08:49:37 GMT") == -299500);
    CHECK(bridge::clock_offset(784111767500, "Sun, 06 Nov 1994 08:49:37 GMT") == 10000);
    CHECK_FALSE(bridge::clock_offset(0, "yesterday"));
    CHECK_FALSE(bridge::clock_offset(0, ""));
}

TEST_CASE("a clock skew over 10 s either way is worth a warning", "[unit][bridge]") {
    CHECK_FALSE(bridge::skew_worth_warning(0));
    CHECK_FALSE(bridge::skew_worth_warning(10000));
    CHECK_FALSE(bridge::skew_worth_warning(-10000));
    CHECK(bridge::skew_worth_warning(10001));
    CHECK(bridge::skew_worth_warning(-300000));
}
