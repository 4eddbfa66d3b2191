#include "pg/pipeline_tracker.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::pg;
using in = pipeline_tracker::input;
using step = pipeline_tracker::step;

namespace {
void expect(pipeline_tracker& t, in i, step s, std::size_t index = 0) {
    const auto o = t.on(i);
    REQUIRE(o.what == s);
    if (s == step::result_received || s == step::statement_complete)
        REQUIRE(o.index == index);
}
} // namespace

TEST_CASE("results are matched to statements in order", "[unit][pg][pipeline]") {
    pipeline_tracker t;
    t.expect_statement();
    t.expect_statement();
    t.expect_sync();
    CHECK(t.pending_syncs() == 1);
    expect(t, in::ok, step::result_received, 0);
    expect(t, in::null, step::statement_complete, 0);
    expect(t, in::ok, step::result_received, 1);
    expect(t, in::null, step::statement_complete, 1);
    CHECK_FALSE(t.idle());
    expect(t, in::sync, step::group_complete);
    CHECK(t.idle());
    CHECK_FALSE(t.broken());
}

TEST_CASE("an error aborts the rest of its group only", "[unit][pg][pipeline]") {
    pipeline_tracker t;
    for (int i = 0; i < 3; ++i)
        t.expect_statement();
    t.expect_sync();
    t.expect_statement();
    t.expect_sync();
    expect(t, in::ok, step::result_received, 0);
    expect(t, in::null, step::statement_complete, 0);
    expect(t, in::error, step::result_received, 1);
    expect(t, in::null, step::statement_complete, 1);
    expect(t, in::aborted, step::result_received, 2);
    expect(t, in::null, step::statement_complete, 2);
    expect(t, in::sync, step::group_complete);
    // The next group starts clean.
    expect(t, in::ok, step::result_received, 3);
    expect(t, in::null, step::statement_complete, 3);
    expect(t, in::sync, step::group_complete);
    CHECK(t.idle());
}

TEST_CASE("any mismatch marks the tracker broken", "[unit][pg][pipeline]") {
    SECTION("a sync where a statement's result was due") {
        pipeline_tracker t;
        t.expect_statement();
        t.expect_sync();
        expect(t, in::sync, step::out_of_sync);
    }
    SECTION("a NULL before the result") {
        pipeline_tracker t;
        t.expect_statement();
        expect(t, in::null, step::out_of_sync);
    }
    SECTION("two results for one statement") {
        pipeline_tracker t;
        t.expect_statement();
        t.expect_statement();
        expect(t, in::ok, step::result_received, 0);
        expect(t, in::ok, step::out_of_sync);
    }
    SECTION("a result nobody asked for") {
        pipeline_tracker t;
        expect(t, in::ok, step::out_of_sync);
    }
    SECTION("an aborted statement with no failure before it") {
        pipeline_tracker t;
        t.expect_statement();
        expect(t, in::aborted, step::out_of_sync);
    }
    SECTION("a success after a failure in the same group") {
        pipeline_tracker t;
        t.expect_statement();
        t.expect_statement();
        expect(t, in::error, step::result_received, 0);
        expect(t, in::null, step::statement_complete, 0);
        expect(t, in::ok, step::out_of_sync);
    }
    SECTION("a statement where a sync was due") {
        pipeline_tracker t;
        t.expect_sync();
        expect(t, in::ok, step::out_of_sync);
    }
}

TEST_CASE("once broken every input is out of sync until reset", "[unit][pg][pipeline]") {
    pipeline_tracker t;
    t.expect_statement();
    expect(t, in::sync, step::out_of_sync);
    CHECK(t.broken());
    expect(t, in::ok, step::out_of_sync);
    t.reset();
    CHECK_FALSE(t.broken());
    CHECK(t.idle());
    t.expect_statement();
    expect(t, in::ok, step::result_received, 0);
}

TEST_CASE("statement indexes run across sync groups", "[unit][pg][pipeline]") {
    pipeline_tracker t;
    for (int g = 0; g < 100; ++g) {
        for (int s = 0; s < 10; ++s)
            t.expect_statement();
        t.expect_sync();
    }
    CHECK(t.statements_sent() == 1000);
    CHECK(t.pending_syncs() == 100);
    for (std::size_t i = 0; i < 1000; ++i) {
        expect(t, in::ok, step::result_received, i);
        expect(t, in::null, step::statement_complete, i);
        if (i % 10 == 9)
            expect(t, in::sync, step::group_complete);
    }
    CHECK(t.idle());
}
