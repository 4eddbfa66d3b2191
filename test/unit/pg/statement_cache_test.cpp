#include "pg/statement_cache.hpp"

#include <catch2/catch.hpp>

#include <set>

using sfbridge::pg::statement_cache;

TEST_CASE("the statement cache names each text once and keeps what the server accepted",
          "[unit][pg]") {
    statement_cache c(3);
    CHECK(c.find("SELECT $1") == nullptr);
    const std::string a = c.next_name(0);
    const std::string b = c.next_name(1);
    CHECK_FALSE(a.empty());
    CHECK(a != b);
    // Not known until the server has accepted its Parse.
    CHECK(c.find("SELECT $1") == nullptr);
    c.add("SELECT $1", a);
    REQUIRE(c.find("SELECT $1") != nullptr);
    CHECK(*c.find("SELECT $1") == a);
    CHECK(c.find(std::string_view("SELECT $1 ")) == nullptr); // the text is the key, exactly
    CHECK(c.size() == 1);
}

TEST_CASE("a full statement cache hands out no more names", "[unit][pg]") {
    statement_cache c(2);
    c.add("A", c.next_name(0));
    // One Parse already on its way fills the last place.
    CHECK(c.next_name(1).empty());
    const std::string last = c.next_name(0);
    REQUIRE_FALSE(last.empty());
    c.add("B", last);
    CHECK(c.next_name(0).empty());
    c.add("C", "extra"); // over capacity: ignored
    CHECK(c.find("C") == nullptr);
    CHECK(c.size() == 2);
}

TEST_CASE("names are never reused, even after the cache is cleared", "[unit][pg]") {
    statement_cache c(4);
    std::set<std::string> seen;
    for (int round = 0; round < 3; ++round) {
        for (const char* sql : {"A", "B", "C"}) {
            const std::string n = c.next_name(0);
            CHECK(seen.insert(n).second);
            c.add(sql, n);
        }
        CHECK(c.size() == 3);
        c.clear(); // a new session
        CHECK(c.find("A") == nullptr);
        CHECK(c.size() == 0);
    }
}
