#include "test/chaos/soak_analysis.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::chaos;

TEST_CASE("the soak fits a line over the second half", "[unit][chaos]") {
    CHECK(slope({1, 2, 3, 4, 5}, 0) == Approx(1.0));
    CHECK(slope({9, 9, 0, 2, 4, 6}, 2) == Approx(2.0));
    CHECK(slope({5}, 0) == 0);
    CHECK(median({3, 1, 2}) == 2);
}

TEST_CASE("a series that levels off is bounded, one that keeps rising is not", "[unit][chaos]") {
    series plateau{"archive_rows", 50, false, 0, {}};
    for (int i = 0; i < 60; ++i) // fills for ten samples, then pruning holds it near 1000
        plateau.values.push_back(i < 10 ? i * 100.0 : 1000.0 + (i % 2 ? 20 : -20));
    CHECK_FALSE(judge(plateau).failed);

    series leak{"rss_kb", 4096, false, 0, {}};
    for (int i = 0; i < 60; ++i)
        leak.values.push_back(40000.0 + 300.0 * i); // 9 MB over the second half
    const auto j = judge(leak);
    CHECK(j.failed);
    CHECK(j.rise == Approx(300.0 * 29));
    CHECK(describe(j).find("GROWS WITHOUT BOUND") != std::string::npos);

    series small{"fds", 4, false, 0, {}};
    for (int i = 0; i < 60; ++i)
        small.values.push_back(30.0 + (i > 40 ? 2 : 0)); // a couple more, within the slack
    CHECK_FALSE(judge(small).failed);

    series swinging{"trigger_log_rows", 10, false, 0.25, {}}; // swings with the load
    for (int i = 0; i < 60; ++i)
        swinging.values.push_back(4000.0 + (i > 45 ? 600 : 0));
    CHECK_FALSE(judge(swinging).failed);
    swinging.relative = 0;
    CHECK(judge(swinging).failed);
}

TEST_CASE("latency drifts when the last third is over twice the first", "[unit][chaos]") {
    series steady{"inbound_ms", 20, true, 0, {}};
    series drifting{"inbound_ms", 20, true, 0, {}};
    for (int i = 0; i < 30; ++i) {
        steady.values.push_back(i == 0 ? 900 : 5 + i % 3); // the first sample is warm-up
        drifting.values.push_back(5 + 3.0 * i);
    }
    CHECK_FALSE(judge(steady).failed);
    CHECK(judge(drifting).failed);
}
