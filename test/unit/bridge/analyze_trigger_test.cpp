#include "bridge/analyze_trigger.hpp"

#include <catch2/catch.hpp>

using sfbridge::bridge::analyze_trigger;

TEST_CASE("a table never analyzed is analyzed once it holds the minimum", "[analyze_trigger]") {
    analyze_trigger t(200, 0.5);
    t.analyzed(-1); // pg_class.reltuples of a table never analyzed
    CHECK_FALSE(t.due());
    t.added(199);
    CHECK_FALSE(t.due());
    t.added(1);
    CHECK(t.due());
}

TEST_CASE("the next ANALYZE comes after a fraction of what the last one saw", "[analyze_trigger]") {
    analyze_trigger t(200, 0.5);
    t.analyzed(10000);
    t.added(4999);
    CHECK_FALSE(t.due());
    t.added(1);
    CHECK(t.due());
    t.started();
    CHECK_FALSE(t.due()); // one at a time
    t.added(6000);        // written while it ran
    CHECK_FALSE(t.due());
    t.analyzed(15000);
    CHECK_FALSE(t.due()); // 6,000 < 7,500
    t.added(1500);
    CHECK(t.due());
}

TEST_CASE("a failed ANALYZE leaves its rows to the next attempt", "[analyze_trigger]") {
    analyze_trigger t(200, 0.5);
    t.analyzed(0);
    t.added(300);
    REQUIRE(t.due());
    t.started();
    CHECK(t.pending() == 0);
    t.added(10);
    t.failed();
    CHECK(t.pending() == 310);
    CHECK(t.due());
}

TEST_CASE("nothing written, nothing due", "[analyze_trigger]") {
    analyze_trigger t(0, 0);
    t.analyzed(0);
    CHECK_FALSE(t.due());
    t.added(0);
    CHECK_FALSE(t.due());
}
