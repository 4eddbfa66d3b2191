#include "pg/error.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::pg;

TEST_CASE("SQLSTATE codes pack into an error_code and back", "[unit][pg]") {
    for (const char* code : {"23505", "40001", "40P01", "57P01", "08006", "42P01", "ZZZZZ"}) {
        const auto ec = make_sqlstate_error(code);
        CHECK(ec.category() == sqlstate_category());
        CHECK(sqlstate_of(ec) == code);
        CHECK(ec.message() == std::string("SQLSTATE ") + code);
    }
}

TEST_CASE("malformed SQLSTATEs become server_error", "[unit][pg]") {
    CHECK(make_sqlstate_error("") == errc::server_error);
    CHECK(make_sqlstate_error("2350") == errc::server_error);
    CHECK(make_sqlstate_error("23a05") == errc::server_error);
    CHECK(make_sqlstate_error("00000") == errc::server_error);
    CHECK(sqlstate_of(make_error_code(errc::timeout)).empty());
}

TEST_CASE("SQLSTATE classes map to the conditions callers test", "[unit][pg]") {
    struct row {
        const char* code;
        bool lost, retryable, constraint, bad_input;
    };
    const row rows[] = {
        {"08000", true, false, false, false},  // connection_exception
        {"08006", true, false, false, false},  // connection_failure
        {"08P01", true, false, false, false},  // protocol_violation
        {"57P01", true, false, false, false},  // admin_shutdown (pg_terminate_backend, restart)
        {"57P02", true, false, false, false},  // crash_shutdown
        {"57P03", true, false, false, false},  // cannot_connect_now
        {"57014", false, false, false, false}, // query_canceled is none of these
        {"40001", false, true, false, false},  // serialization_failure
        {"40P01", false, true, false, false},  // deadlock_detected
        {"55P03", false, true, false, false},  // lock_not_available
        {"40002", false, false, false, false}, // transaction integrity: not retryable
        {"23505", false, false, true, false},  // unique_violation
        {"23502", false, false, true, false},  // not_null_violation
        {"22001", false, false, false, true},  // string_data_right_truncation
        {"22P02", false, false, false, true},  // invalid_text_representation
        {"42P01", false, false, false, true},  // undefined_table
        {"42601", false, false, false, true},  // syntax_error
    };
    for (const auto& r : rows) {
        INFO(r.code);
        const auto ec = make_sqlstate_error(r.code);
        CHECK((ec == condition::connection_lost) == r.lost);
        CHECK((ec == condition::retryable) == r.retryable);
        CHECK((ec == condition::constraint_violation) == r.constraint);
        CHECK((ec == condition::bad_input) == r.bad_input);
    }
}

TEST_CASE("client errors that end the session count as connection_lost", "[unit][pg]") {
    CHECK(make_error_code(errc::timeout) == condition::connection_lost);
    CHECK(make_error_code(errc::connection_lost) == condition::connection_lost);
    CHECK(make_error_code(errc::broken) == condition::connection_lost);
    CHECK(make_error_code(errc::not_connected) == condition::connection_lost);
    CHECK_FALSE(make_error_code(errc::connect_failed) == condition::connection_lost);
    CHECK_FALSE(make_error_code(errc::operation_in_progress) == condition::connection_lost);
    CHECK_FALSE(make_error_code(errc::timeout) == condition::retryable);
    CHECK_FALSE(boost::system::error_code() == condition::connection_lost);
}

TEST_CASE("error messages name the failure and not server text", "[unit][pg]") {
    CHECK(make_error_code(errc::operation_in_progress).message().find("another operation") !=
          std::string::npos);
    CHECK(std::string(client_category().name()) == "sfbridge.pg");
}
