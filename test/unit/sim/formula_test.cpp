#include "sim/formula.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace sfbridge::sim;

namespace {
struct record_fields {
    std::map<std::string, int> index{{"A", 0}, {"B", 1}, {"Name", 2}, {"Blank", 3}};
    std::vector<value> values{value(6.0), value(4.0), value(std::string("Ada")), value()};

    formula::expression compile(std::string_view text, std::string& error) const {
        return formula::expression::compile(
            text,
            [&](std::string_view n) {
                auto it = index.find(std::string(n));
                return it == index.end() ? -1 : it->second;
            },
            error);
    }
    value eval(std::string_view text) const {
        std::string error;
        auto e = compile(text, error);
        INFO(error);
        REQUIRE(e.valid());
        return e.evaluate(
            [&](int i) -> const value& { return values[static_cast<std::size_t>(i)]; });
    }
};
} // namespace

TEST_CASE("sfsim formulas compute arithmetic with precedence and parentheses", "[unit][sim]") {
    record_fields r;
    CHECK(r.eval("A + B * 2") == value(14.0));
    CHECK(r.eval("(A + B) * 2") == value(20.0));
    CHECK(r.eval("A / B - 1") == value(0.5));
    CHECK(r.eval("-A + 1.5") == value(-4.5));
}

TEST_CASE("sfsim formulas concatenate text and treat blanks as blanks", "[unit][sim]") {
    record_fields r;
    CHECK(r.eval("Name & ' (' & A & ')'") == value(std::string("Ada (6)")));
    CHECK(r.eval("Name + \"!\"") == value(std::string("Ada!")));
    CHECK(r.eval("Blank & Name") == value(std::string("Ada")));
    CHECK(is_null(r.eval("Blank + A")));
    CHECK(is_null(r.eval("A / (B - 4)"))); // division by zero: Salesforce's #Error!, null
}

TEST_CASE("sfsim formulas name what is wrong and list their inputs", "[unit][sim]") {
    record_fields r;
    std::string error;
    CHECK_FALSE(r.compile("A + Missing__c", error).valid());
    CHECK(error.find("unknown field 'Missing__c'") != std::string::npos);
    CHECK_FALSE(r.compile("(A + B", error).valid());
    CHECK(error.find("')' expected") != std::string::npos);
    CHECK_FALSE(r.compile("A +", error).valid());
    CHECK_FALSE(r.compile("'open", error).valid());
    CHECK_FALSE(r.compile(std::string(200, '(') + "A" + std::string(200, ')'), error).valid());
    CHECK(error.find("nested too deeply") != std::string::npos);
    const auto e = r.compile("A * A + B", error);
    REQUIRE(e.valid());
    CHECK(e.inputs() == std::vector<int>{0, 1});
}
