#include "bridge/hstore.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::bridge;

TEST_CASE("hstore text as Postgres prints it is read back", "[unit][bridge]") {
    hstore_pairs p;
    std::string error;
    REQUIRE(
        parse_hstore(R"("id"=>"1", "name"=>"Say \"hi\" \\ bye", "gone"=>NULL, "e"=>"")", p, error));
    REQUIRE(p.size() == 4);
    CHECK(p[0] == hstore_pairs::value_type{"id", std::string("1")});
    CHECK(p[1].second == std::string("Say \"hi\" \\ bye"));
    CHECK_FALSE(p[2].second.has_value());
    CHECK(p[3].second == std::string(""));
    REQUIRE(parse_hstore("", p, error));
    CHECK(p.empty());
    for (const char* bad : {R"("a"=)", R"("a"=>x)", R"("a"=>"b" "c"=>"d")", R"("unterminated)"}) {
        INFO(bad);
        CHECK_FALSE(parse_hstore(bad, p, error));
        CHECK(error.find("hstore") != std::string::npos);
    }
}
