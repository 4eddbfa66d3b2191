#include "sim/values.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::sim;

TEST_CASE("datetimes in every accepted form become one canonical UTC form", "[unit][sim]") {
    CHECK(canonical_datetime("2024-02-29T23:59:59Z") == "2024-02-29T23:59:59.000Z");
    CHECK(canonical_datetime("2024-02-29T23:59:59.5Z") == "2024-02-29T23:59:59.500Z");
    CHECK(canonical_datetime("2013-05-20T20:49:32.000+0000") == "2013-05-20T20:49:32.000Z");
    CHECK(canonical_datetime("2024-01-01T01:30:00.000+02:00") == "2023-12-31T23:30:00.000Z");
    CHECK(canonical_datetime("2024-01-01T00:00:00-0800") == "2024-01-01T08:00:00.000Z");
    CHECK(canonical_datetime("2024-03-01") == "2024-03-01T00:00:00.000Z");
    CHECK(canonical_datetime("2023-02-29T00:00:00Z").empty()); // not a leap year
    CHECK(canonical_datetime("2024-01-01T24:00:00Z").empty());
    CHECK(canonical_datetime("2024-01-01T10:00:00").empty()); // no zone
    CHECK(canonical_datetime("yesterday").empty());
    CHECK(rest_datetime("2024-01-01T08:00:00.000Z") == "2024-01-01T08:00:00.000+0000");
}

TEST_CASE("epoch milliseconds round-trip across eras", "[unit][sim]") {
    for (std::int64_t ms : {0LL, 951782400000LL, 1709251199999LL, -86400001LL, 4102444800000LL}) {
        std::int64_t back = 0;
        REQUIRE(parse_datetime(format_datetime(ms), back));
        CHECK(back == ms);
    }
    CHECK(format_datetime(0) == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("dates and times are validated", "[unit][sim]") {
    CHECK(valid_date("2000-02-29"));
    CHECK_FALSE(valid_date("1900-02-29"));
    CHECK_FALSE(valid_date("2024-13-01"));
    CHECK_FALSE(valid_date("2024-1-01"));
    CHECK(canonical_time("22:12:30.999Z") == "22:12:30.999Z");
    CHECK(canonical_time("00:00") == "00:00:00.000Z");
    CHECK(canonical_time("23:59:59") == "23:59:59.000Z");
    CHECK(canonical_time("24:00:00Z").empty());
}
