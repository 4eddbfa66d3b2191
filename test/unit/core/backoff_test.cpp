#include "core/backoff.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using sfbridge::backoff;
using sfbridge::backoff_delay;
using sfbridge::backoff_policy;

TEST_CASE("backoff doubles from its first delay up to the cap", "[unit][backoff]") {
    backoff_policy p{100ms, 1000ms, 2.0, 0.0};
    CHECK(backoff_delay(p, 1, 0.5) == 100ms);
    CHECK(backoff_delay(p, 2, 0.5) == 200ms);
    CHECK(backoff_delay(p, 4, 0.5) == 800ms);
    CHECK(backoff_delay(p, 5, 0.5) == 1000ms);
    CHECK(backoff_delay(p, 1000000, 0.5) == 1000ms); // no overflow far past the cap
    CHECK(backoff_delay(p, 0, 0.5) == 100ms);        // a retry before any failure: the first
    CHECK(backoff_delay(p, -3, 0.5) == 100ms);
}

TEST_CASE("backoff jitter spreads each delay and never passes the cap", "[unit][backoff]") {
    backoff_policy p{1000ms, 4000ms, 2.0, 0.25};
    CHECK(backoff_delay(p, 1, 0.0) == 750ms);
    CHECK(backoff_delay(p, 1, 0.5) == 1000ms);
    CHECK(backoff_delay(p, 1, 0.999999) == 1249ms);
    CHECK(backoff_delay(p, 3, 0.999999) == 4000ms); // 4000 * 1.25 capped
    CHECK(backoff_delay(p, 3, 0.0) == 3000ms);
    CHECK(backoff_delay(p, 1, 7.0) == 1250ms); // out-of-range randomness is clamped
}

TEST_CASE("backoff never gives a zero delay, whatever the policy", "[unit][backoff]") {
    backoff_policy p{0ms, 0ms, 0.0, 1.0};
    CHECK(backoff_delay(p, 1, 0.0) == 1ms);
    CHECK(backoff_delay(p, 50, 0.0) == 1ms);
}

TEST_CASE("a backoff grows with failures, stays in bounds and starts again on reset",
          "[unit][backoff]") {
    backoff b({200ms, 5000ms, 2.0, 0.25}, 42);
    std::chrono::milliseconds last{0};
    for (int i = 1; i <= 12; ++i) {
        const auto d = b.next();
        CHECK(b.failures() == i);
        const auto nominal = std::min<std::int64_t>(5000, 200LL << (i - 1));
        CHECK(d.count() >= nominal * 3 / 4);
        CHECK(d <= 5000ms);
        last = d;
    }
    CHECK(last >= 3750ms);
    b.reset();
    CHECK(b.failures() == 0);
    const auto first = b.next();
    CHECK(first >= 150ms);
    CHECK(first <= 250ms);
}

TEST_CASE("the same seed gives the same delays", "[unit][backoff]") {
    backoff a({100ms, 10000ms, 2.0, 0.5}, 7), b({100ms, 10000ms, 2.0, 0.5}, 7);
    for (int i = 0; i < 8; ++i)
        CHECK(a.next() == b.next());
}
