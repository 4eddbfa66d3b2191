#include "core/utf8.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace std::string_literals;
namespace utf8 = sfbridge::utf8;

TEST_CASE("well-formed UTF-8 is told from what Postgres would refuse", "[unit][core]") {
    CHECK(utf8::valid(""));
    CHECK(utf8::valid("plain ASCII, longer than eight bytes"));
    CHECK(utf8::valid(
        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF")); // é € 😀 U+10FFFF
    CHECK(utf8::valid("a\0b"s)); // valid UTF-8; Postgres refuses it for another reason
    CHECK_FALSE(utf8::valid("\xFF"));
    CHECK_FALSE(utf8::valid("caf\xE9"));                 // Latin-1
    CHECK_FALSE(utf8::valid("\x80 stray continuation")); // after ASCII runs too
    CHECK_FALSE(utf8::valid("12345678\x80"));
    CHECK_FALSE(utf8::valid("\xC0\xAF"));         // overlong '/'
    CHECK_FALSE(utf8::valid("\xE0\x80\xAF"));     // overlong
    CHECK_FALSE(utf8::valid("\xED\xA0\x80"));     // a surrogate
    CHECK_FALSE(utf8::valid("\xF4\x90\x80\x80")); // past U+10FFFF
    CHECK_FALSE(utf8::valid("\xF0\x9F\x98"));     // cut short
    CHECK_FALSE(utf8::valid("\xE2\x82"
                            "A")); // a continuation missing
}

TEST_CASE("text quoted in a message is safe to store and cut on a character", "[unit][core]") {
    const std::string fffd = "\xEF\xBF\xBD";
    CHECK(utf8::printable("plain", 80) == "plain");
    CHECK(utf8::printable("a\0b"s, 80) == "a" + fffd + "b");
    CHECK(utf8::printable("caf\xE9!", 80) == "caf" + fffd + "!");
    CHECK(utf8::printable("\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 6) == "\xF0\x9F\x98\x80"); // not half
    CHECK(utf8::printable("abcdef", 3) == "abc");
    CHECK(utf8::valid(utf8::printable("\xC0\xAF\xFF\xED\xA0\x80", 80)));
}
