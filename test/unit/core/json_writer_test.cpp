#include "core/json_writer.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;

TEST_CASE("the JSON writer places commas and escapes strings", "[unit][json]") {
    std::string out;
    json::writer w(out);
    w.begin_object()
        .member("s", "a\"b\\c\nd\x01")
        .member("n", 1.5)
        .member("i", std::int64_t{-3})
        .member("t", true)
        .key("nil")
        .null()
        .key("arr")
        .begin_array()
        .integer(1)
        .string("x")
        .begin_object()
        .end_object()
        .begin_array()
        .end_array()
        .end_array()
        .key("raw")
        .raw("{\"k\":[1,2]}")
        .end_object();
    CHECK(out == R"({"s":"a\"b\\c\nd\u0001","n":1.5,"i":-3,"t":true,"nil":null,)"
                 R"("arr":[1,"x",{},[]],"raw":{"k":[1,2]}})");
}

TEST_CASE("numbers print in their shortest exact form", "[unit][json]") {
    auto num = [](double v) {
        std::string s;
        json::append_number(s, v);
        return s;
    };
    CHECK(num(42.0) == "42");
    CHECK(num(-0.5) == "-0.5");
    CHECK(num(0.1) == "0.1");
    CHECK(num(123456789012345.0) == "123456789012345");
    CHECK(num(1e300) == "1e+300");
    CHECK(num(0.30000000000000004) == "0.30000000000000004");
}
