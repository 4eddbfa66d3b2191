#include "salesforce/ids.hpp"

#include <catch2/catch.hpp>

using sfbridge::salesforce::is_record_id;

TEST_CASE("record ids are 15 characters, or 18 with the suffix their case gives",
          "[unit][salesforce]") {
    CHECK(is_record_id("003D000000IRFcb"));
    CHECK(is_record_id("001000000000001AAA"));       // no upper case in the first 15: AAA
    CHECK(is_record_id("001000000000001aaa"));       // the suffix is case-insensitive
    CHECK(is_record_id("003D000000IRFcbIAH"));       // D in the first group, I R F in the third
    CHECK_FALSE(is_record_id("003D000000IRFcbAAA")); // a suffix that does not match
    CHECK_FALSE(is_record_id(""));
    CHECK_FALSE(is_record_id("003D000000IRFc"));    // 14
    CHECK_FALSE(is_record_id("003D000000IRFcbIA")); // 17
    CHECK_FALSE(is_record_id("003D000000IRF,b"));   // a comma would add ids to a delete
    CHECK_FALSE(is_record_id("003D000000IRF b"));
    CHECK_FALSE(is_record_id("../../sobjects/x"));
    CHECK_FALSE(is_record_id(std::string_view("003D000000IRF\0b", 15)));
}
