#include "sim/ids.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace sfbridge::sim;

TEST_CASE("18-character ids carry the case-safe checksum of real ones", "[unit][sim]") {
    // Real ids from Salesforce documentation and captured responses.
    CHECK(ids::to18("001D000000IRFma") == "001D000000IRFmaIAH");
    CHECK(ids::to18("a00D0000008o6y8") == "a00D0000008o6y8IAA");
    CHECK(ids::to18("001D000000KnaXj") == "001D000000KnaXjIAJ");
    CHECK(ids::valid("00190000001pPvHAAU"));
    CHECK(ids::valid("00190000001pPvHaau")); // the suffix is case-insensitive
    CHECK_FALSE(ids::valid("00190000001pPvHAAV"));
    CHECK_FALSE(ids::valid("001900K0001pPuO!AU"));
    CHECK_FALSE(ids::valid("0019"));
}

TEST_CASE("made ids have the key prefix and are unique and valid", "[unit][sim]") {
    std::set<std::string> seen;
    for (std::uint64_t i = 0; i < 5000; ++i) {
        const auto id = ids::make("003", i * 7919);
        REQUIRE(id.size() == 18);
        REQUIRE(id.substr(0, 3) == "003");
        REQUIRE(ids::valid(id));
        REQUIRE(seen.insert(id).second);
    }
    CHECK(ids::same("001D000000IRFmaIAH", "001D000000IRFma"));
    CHECK_FALSE(ids::same("001D000000IRFmaIAH", "001d000000IRFmaIAH"));
}
