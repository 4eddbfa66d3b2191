#include "pg/copy_text.hpp"

#include <catch2/catch.hpp>

namespace ct = sfbridge::pg::copy_text;

TEST_CASE("COPY text rows escape backslash and tab and newline and carriage return", "[unit][pg]") {
    std::string out;
    ct::append_field(out, "plain", true);
    ct::append_field(out, "tab\there", false);
    ct::append_field(out, "line\nbreak\r", false);
    ct::append_field(out, "back\\slash", false);
    ct::append_null(out, false);
    ct::append_field(out, "", false);
    ct::end_row(out);
    CHECK(out == "plain\ttab\\there\tline\\nbreak\\r\tback\\\\slash\t\\N\t\n");
}

TEST_CASE("a literal backslash-N string is not NULL", "[unit][pg]") {
    std::string out;
    ct::append_field(out, "\\N", true);
    CHECK(out == "\\\\N");
}

TEST_CASE("optional fields choose NULL or the value", "[unit][pg]") {
    std::string out;
    ct::append_optional(out, std::optional<std::string_view>(), true);
    ct::append_optional(out, std::optional<std::string_view>("v"), false);
    CHECK(out == "\\N\tv");
}
