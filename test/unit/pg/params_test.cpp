#include "pg/params.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using sfbridge::pg::params;

TEST_CASE("params keep text and numbers and booleans and NULLs in order", "[unit][pg]") {
    params p("text", 42, -7LL, true, std::nullopt, 0.1, std::optional<std::string>("x"),
             std::optional<int>());
    REQUIRE(p.size() == 8);
    CHECK(p.value(0) == "text");
    CHECK(p.value(1) == "42");
    CHECK(p.value(2) == "-7");
    CHECK(p.value(3) == "t");
    CHECK(p.is_null(4));
    CHECK(p.value(5) == "0.1"); // shortest round-trip form
    CHECK(p.value(6) == "x");
    CHECK(p.is_null(7));

    std::vector<const char*> values;
    p.materialize(values);
    REQUIRE(values.size() == 8);
    CHECK(std::strcmp(values[0], "text") == 0); // NUL-terminated, as libpq reads it
    CHECK(std::strcmp(values[1], "42") == 0);
    CHECK(values[4] == nullptr);
    CHECK(values[7] == nullptr);
}

TEST_CASE("params keep empty strings apart from NULL", "[unit][pg]") {
    params p;
    p.add("").add_null();
    CHECK_FALSE(p.is_null(0));
    CHECK(p.value(0).empty());
    CHECK(p.is_null(1));
}

TEST_CASE("params reject a NUL byte which text format cannot carry", "[unit][pg]") {
    params p;
    CHECK_THROWS_AS(p.add(std::string_view("a\0b", 3)), std::invalid_argument);
    CHECK(p.empty());
}

TEST_CASE("doubles keep 15 and 17 significant digits", "[unit][pg]") {
    params p(123456789012345.0, 0.30000000000000004);
    CHECK(p.value(0) == "123456789012345");
    CHECK(p.value(1) == "0.30000000000000004");
}
