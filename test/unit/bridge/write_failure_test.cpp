#include "bridge/write_failure.hpp"
#include "pg/error.hpp"

#include <catch2/catch.hpp>

using sfbridge::bridge::classify_write_failure;
using sfbridge::bridge::write_failure;
namespace pg = sfbridge::pg;

TEST_CASE("what Postgres refuses for a row's data is isolated to that row", "[unit][bridge]") {
    for (const char* s : {"22001",    // a value longer than its varchar column
                          "22021",    // not UTF-8 (or a NUL) in text
                          "22P02",    // bad input syntax for a type
                          "22003",    // a number out of range
                          "23514",    // a check constraint
                          "23502",    // NOT NULL
                          "23505",    // a unique index
                          "P0001",    // a trigger's RAISE EXCEPTION
                          "P0004"}) { // a trigger's ASSERT
        INFO(s);
        CHECK(classify_write_failure(pg::make_sqlstate_error(s)) == write_failure::refused_row);
    }
}

TEST_CASE("every other failure of a write is transient and retried", "[unit][bridge]") {
    for (const char* s : {"08006",    // connection failure
                          "57P01",    // the server shutting down
                          "57014",    // statement_timeout
                          "53100",    // disk full
                          "53200",    // out of memory
                          "40001",    // serialization failure
                          "40P01",    // deadlock
                          "55P03",    // lock_timeout
                          "42703",    // a column dropped by someone: fixed by someone
                          "42501",    // a privilege taken away
                          "XX000"}) { // an internal error
        INFO(s);
        CHECK(classify_write_failure(pg::make_sqlstate_error(s)) == write_failure::transient);
    }
    for (auto e : {pg::errc::timeout, pg::errc::connection_lost, pg::errc::broken,
                   pg::errc::pipeline_aborted, pg::errc::server_error}) {
        INFO(static_cast<int>(e));
        CHECK(classify_write_failure(pg::make_error_code(e)) == write_failure::transient);
    }
}

TEST_CASE("a replaced session is the writer's own error, retried and never a refused row",
          "[unit][bridge]") {
    const boost::system::error_code ec =
        sfbridge::bridge::make_error_code(sfbridge::bridge::write_errc::positions_unsure);
    CHECK(ec == sfbridge::bridge::write_errc::positions_unsure);
    CHECK(classify_write_failure(ec) == write_failure::transient);
    CHECK(std::string(ec.category().name()) == "sfbridge.write");
    CHECK(ec.message().find("positions") != std::string::npos);
}

TEST_CASE("a write refused by the leadership fence is neither a row's fault nor retried",
          "[unit][bridge]") {
    // SB001: _sfbridge_lead's refusal (bridge/leadership_sql), another replica leads the mapping.
    CHECK(classify_write_failure(pg::make_sqlstate_error("SB001")) == write_failure::fenced);
    CHECK(classify_write_failure(pg::make_sqlstate_error("SB002")) == write_failure::transient);
}
