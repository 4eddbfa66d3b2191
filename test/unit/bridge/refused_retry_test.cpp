#include "bridge/refused_retry.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;
using namespace std::chrono_literals;

TEST_CASE("refused records are fetched again by Id, deleted ones included", "[unit][refused]") {
    CHECK(bridge::refused_query("Contact", {"Id", "LastName", "SystemModstamp"},
                                {"003000000000001AAA", "003000000000002AAA"}, true) ==
          "SELECT Id, LastName, SystemModstamp, IsDeleted FROM Contact WHERE Id IN "
          "('003000000000001AAA','003000000000002AAA')");
    CHECK(bridge::refused_query("Contact", {"Id", "IsDeleted"}, {"003000000000001AAA"}, true) ==
          "SELECT Id, IsDeleted FROM Contact WHERE Id IN ('003000000000001AAA')");
    CHECK(bridge::refused_query("Thing__c", {"Id"}, {"a0X' OR Id != '"}, false) ==
          R"(SELECT Id FROM Thing__c WHERE Id IN ('a0X\' OR Id != \''))");
}

TEST_CASE("refused records are retried at once, then back off while still refused",
          "[unit][refused]") {
    bridge::refused_schedule s(30s, 10min);
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    CHECK(s.due(t0)); // the first poll looks at once
    s.done(t0, true);
    CHECK(s.wait() == 60s);
    CHECK_FALSE(s.due(t0 + 59s));
    CHECK(s.due(t0 + 60s));
    for (int i = 0; i < 10; ++i)
        s.done(t0, true);
    CHECK(s.wait() == 10min); // bounded
    s.done(t0, false);        // nothing refused any more
    CHECK(s.wait() == 30s);
    CHECK(s.due(t0 + 30s));
}
