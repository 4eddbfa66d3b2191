#include "core/calendar.hpp"

#include <catch2/catch.hpp>

namespace cal = sfbridge::calendar;

TEST_CASE("civil dates and day numbers convert both ways", "[unit][calendar]") {
    CHECK(cal::days_from_civil(1970, 1, 1) == 0);
    CHECK(cal::days_from_civil(2000, 3, 1) == 11017);
    CHECK(cal::days_from_civil(1969, 12, 31) == -1);
    for (std::int64_t d : {-719468LL, -1LL, 0LL, 59LL, 11016LL, 20000LL, 2932896LL}) {
        int y = 0, m = 0, day = 0;
        cal::civil_from_days(d, y, m, day);
        CHECK(cal::days_from_civil(y, m, day) == d);
    }
    int y = 0, m = 0, d = 0;
    cal::civil_from_days(11016, y, m, d); // the day before 2000-03-01: a leap day
    CHECK((y == 2000 && m == 2 && d == 29));
}

TEST_CASE("valid_civil knows leap years and month lengths", "[unit][calendar]") {
    CHECK(cal::valid_civil(2024, 2, 29));
    CHECK(cal::valid_civil(2000, 2, 29));
    CHECK_FALSE(cal::valid_civil(1900, 2, 29));
    CHECK_FALSE(cal::valid_civil(2023, 2, 29));
    CHECK_FALSE(cal::valid_civil(2024, 4, 31));
    CHECK_FALSE(cal::valid_civil(2024, 13, 1));
    CHECK_FALSE(cal::valid_civil(2024, 0, 1));
    CHECK_FALSE(cal::valid_civil(2024, 1, 0));
}

TEST_CASE("UTC formatting has milliseconds, the chosen separator and an optional Z",
          "[unit][calendar]") {
    CHECK(cal::format_utc(0, 'T', true) == "1970-01-01T00:00:00.000Z");
    CHECK(cal::format_utc(1706695200123, ' ', false) == "2024-01-31 10:00:00.123");
    CHECK(cal::format_utc(-1, 'T', true) == "1969-12-31T23:59:59.999Z");
    std::string out = "at ";
    cal::append_utc(out, 951782400000, 'T', false); // 2000-02-29
    CHECK(out == "at 2000-02-29T00:00:00.000");
}

TEST_CASE("HTTP Date headers parse in IMF-fixdate form only", "[unit][calendar]") {
    CHECK(cal::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777000);
    CHECK(cal::parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT") == 0);
    CHECK(cal::parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT") ==
          (cal::days_from_civil(2028, 2, 29) * 86400 + 86399) * 1000);
    // The obsolete forms, other zones, bad fields and impossible dates are refused.
    CHECK_FALSE(cal::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
    CHECK_FALSE(cal::parse_http_date("Sun Nov  6 08:49:37 1994"));
    CHECK_FALSE(cal::parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
    CHECK_FALSE(cal::parse_http_date("Sun, 06 Xyz 1994 08:49:37 GMT"));
    CHECK_FALSE(cal::parse_http_date("Sun, 06 anF 1994 08:49:37 GMT"));
    CHECK_FALSE(cal::parse_http_date("Sun, 31 Nov 1994 08:49:37 GMT"));
    CHECK_FALSE(cal::parse_http_date("Sun, 06 Nov 1994 24:49:37 GMT"));
    CHECK_FALSE(cal::parse_http_date("Sun, 06 Nov 19x4 08:49:37 GMT"));
    CHECK_FALSE(cal::parse_http_date(""));
}

TEST_CASE("Salesforce's UTC dateTime is read to the millisecond", "[unit][calendar]") {
    CHECK(cal::parse_utc_datetime("1994-11-06T08:49:37.000Z") == 784111777000);
    CHECK(cal::parse_utc_datetime("1994-11-06T08:49:37.250Z") == 784111777250);
    CHECK(cal::parse_utc_datetime("1994-11-06T08:49:37.250+0000") == 784111777250);
    CHECK(cal::parse_utc_datetime("1994-11-06T08:49:37+00:00") == 784111777000);
    CHECK(cal::parse_utc_datetime("1994-11-06T08:49:37Z") == 784111777000);
    CHECK_FALSE(cal::parse_utc_datetime("1994-11-06T08:49:37.250+0100"));
    CHECK_FALSE(cal::parse_utc_datetime("1994-11-06 08:49:37Z"));
    CHECK_FALSE(cal::parse_utc_datetime("1994-02-30T08:49:37Z"));
    CHECK_FALSE(cal::parse_utc_datetime("1994-11-06T08:49:3xZ"));
    CHECK_FALSE(cal::parse_utc_datetime("1994-11-06T08:49:37.25Z"));
    CHECK_FALSE(cal::parse_utc_datetime(""));
}
