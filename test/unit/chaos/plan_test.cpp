#include "test/chaos/plan.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace sfbridge::chaos;

TEST_CASE("a seed always gives the same fault schedule, and another seed another one", "[chaos]") {
    plan_options o;
    o.run_ms = 60000;
    o.faults = 20;
    o.objects = {"Contact", "Account"};
    const auto a = make_plan(42, o);
    const auto b = make_plan(42, o);
    REQUIRE(a.size() == 20);
    REQUIRE(b.size() == a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
        CHECK(describe(a[i]) == describe(b[i]));
    const auto c = make_plan(43, o);
    bool differs = false;
    for (std::size_t i = 0; i < a.size(); ++i)
        differs = differs || describe(a[i]) != describe(c[i]);
    CHECK(differs);
}

TEST_CASE("faults are sorted, start in the run and end before it does", "[chaos]") {
    plan_options o;
    o.run_ms = 30000;
    o.faults = 50;
    for (std::uint64_t seed = 1; seed < 50; ++seed) {
        const auto p = make_plan(seed, o);
        for (std::size_t i = 0; i < p.size(); ++i) {
            CHECK(p[i].at_ms >= 0);
            CHECK(p[i].at_ms + p[i].duration_ms < o.run_ms);
            if (i > 0)
                CHECK(p[i - 1].at_ms <= p[i].at_ms);
            if (p[i].kind == fault_kind::clock_skew)
                CHECK(p[i].at_ms == 0);
        }
    }
}

TEST_CASE("every kind of fault is drawn over a few seeds, with its parameter in range", "[chaos]") {
    plan_options o;
    o.faults = 20;
    o.objects = {"Contact"};
    std::set<fault_kind> seen;
    for (std::uint64_t seed = 0; seed < 40; ++seed)
        for (const auto& f : make_plan(seed, o)) {
            seen.insert(f.kind);
            if (f.kind == fault_kind::fail_share || f.kind == fault_kind::lock_share) {
                CHECK(f.value >= 5);
                CHECK(f.value <= 40);
            }
            if (f.kind == fault_kind::clock_skew) {
                CHECK(f.value >= -120000);
                CHECK(f.value <= 120000);
            }
            if (!f.object.empty())
                CHECK(f.object == "Contact");
        }
    CHECK(seen.size() == static_cast<std::size_t>(fault_kinds));
    CHECK(name(fault_kind::pg_restart_crash) == "pg_restart_crash");
    CHECK(name(fault_kind::sigterm) == "sigterm");
}
