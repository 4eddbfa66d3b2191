#include "mappings/values.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::mappings;
using namespace std::string_literals;
using kind = sf_value_kind;

namespace {
sf_field_info field(const char* type) {
    sf_field_info f;
    f.name = std::string("F_") + type;
    f.type = type;
    return f;
}
std::optional<std::string> pg(const char* type, kind k, std::string_view raw) {
    std::optional<std::string> out;
    std::string error;
    INFO(type << " " << raw);
    REQUIRE(to_postgres(field(type), k, raw, out, error) == conversion::ok);
    return out;
}
std::string sf(const char* type, std::optional<std::string> v) {
    std::string out, error;
    REQUIRE(to_salesforce_json(field(type), v, out, error));
    return out;
}
} // namespace

TEST_CASE("Salesforce values become Postgres text", "[unit][mappings]") {
    // Datetimes in every form Salesforce sends, to UTC without a zone.
    CHECK(pg("datetime", kind::json_string, "2011-07-07T00:37:00.000+0000") ==
          "2011-07-07 00:37:00.000");
    CHECK(pg("datetime", kind::json_string, "2024-02-29T23:59:59Z") == "2024-02-29 23:59:59.000");
    CHECK(pg("datetime", kind::json_string, "2024-03-01T00:30:00.250+01:00") ==
          "2024-02-29 23:30:00.250");
    CHECK(pg("datetime", kind::csv, "2024-01-01T00:00:00.000Z") == "2024-01-01 00:00:00.000");
    CHECK(pg("date", kind::json_string, "2000-02-29") == "2000-02-29");      // a leap day
    CHECK(pg("time", kind::json_string, "00:00:00.000Z") == "00:00:00.000"); // midnight
    CHECK(pg("boolean", kind::json_bool, "true") == "t");
    CHECK(pg("boolean", kind::csv, "false") == "f");
    CHECK(pg("double", kind::json_number, "123456789012345") == "123456789012345"); // 15 digits
    CHECK(pg("currency", kind::csv, "-0.5") == "-0.5");
    CHECK(pg("multipicklist", kind::json_string, "four;six") == "four;six");
    CHECK(pg("string", kind::json_string, "") == ""); // an empty string is not NULL in JSON...
    CHECK_FALSE(pg("string", kind::csv, ""));         // ...but Bulk CSV has no other NULL
    CHECK_FALSE(pg("datetime", kind::json_null, "null"));
    CHECK(pg("string", kind::json_number, "42") == "42");
}

TEST_CASE("values that do not fit their field are refused by name", "[unit][mappings]") {
    std::optional<std::string> out;
    std::string error;
    const auto refused = conversion::refused;
    CHECK(to_postgres(field("datetime"), kind::json_string, "2024-01-01T10:00:00", out, error) ==
          refused);
    CHECK(error == "F_datetime: expected a datetime with a zone, not \"2024-01-01T10:00:00\"");
    CHECK(to_postgres(field("date"), kind::json_string, "2023-02-29", out, error) == refused);
    CHECK(to_postgres(field("double"), kind::csv, "12abc", out, error) == refused);
    CHECK(to_postgres(field("boolean"), kind::csv, "yes", out, error) == refused);
    CHECK(to_postgres(field("time"), kind::json_string, "25:00:00.000Z", out, error) == refused);
    CHECK(to_postgres(field("time"), kind::json_string, "10:00:00\0Z"s, out, error) == refused);
    // The refused value is quoted as text Postgres can store: no NUL, nothing that is not UTF-8.
    CHECK(to_postgres(field("double"), kind::json_string, "1\0"s, out, error) == refused);
    CHECK(error == "F_double: expected a number, not \"1\xEF\xBF\xBD\"");
}

TEST_CASE("NUL characters are removed from text and the value says so", "[unit][mappings]") {
    std::optional<std::string> out;
    std::string error;
    CHECK(to_postgres(field("string"), kind::json_string, "a\0b\0"s, out, error) ==
          conversion::altered);
    CHECK(out == "ab");
    CHECK(error == "NUL characters removed from field F_string");
    CHECK(to_postgres(field("textarea"), kind::csv, "\0"s, out, error) == conversion::altered);
    CHECK(out == ""); // not NULL: the field had a value
    // The allocation-free form keeps the cleaned text in the caller's scratch buffer.
    std::string scratch;
    std::optional<std::string_view> view;
    CHECK(to_postgres(field("string"), value_class::text, kind::csv, "x\0y"s, scratch, view,
                      error) == conversion::altered);
    CHECK(view == "xy");
}

TEST_CASE("a Bulk CSV value that is not UTF-8 is refused, emoji and long text are not",
          "[unit][mappings]") {
    std::optional<std::string> out;
    std::string error;
    CHECK(to_postgres(field("string"), kind::csv, "caf\xE9", out, error) == conversion::refused);
    CHECK(error == "F_string: not valid UTF-8, not \"caf\xEF\xBF\xBD\"");
    CHECK(to_postgres(field("double"), kind::csv, "1\xFF", out, error) == conversion::refused);
    const std::string emoji =
        "\xF0\x9F\x98\x80 \xF0\x9F\x8F\xB3\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x8C\x88";
    CHECK(pg("string", kind::csv, emoji) == emoji);
    CHECK(pg("string", kind::json_string, emoji) == emoji);
    const std::string long_text(131072, 'x');
    CHECK(pg("textarea", kind::csv, long_text) == long_text);
}

TEST_CASE("Postgres text becomes the JSON of a Salesforce write", "[unit][mappings]") {
    CHECK(sf("datetime", std::string("2024-02-29 23:30:00.25")) == "\"2024-02-29T23:30:00.250Z\"");
    CHECK(sf("datetime", std::string("2024-01-01 00:00:00")) == "\"2024-01-01T00:00:00.000Z\"");
    CHECK(sf("boolean", std::string("t")) == "true");
    CHECK(sf("double", std::string("0.1")) == "0.1");
    CHECK(sf("date", std::string("2000-02-29")) == "\"2000-02-29\"");
    CHECK(sf("time", std::string("10:30:00")) == "\"10:30:00.000Z\"");
    CHECK(sf("string", std::string("say \"hi\"")) == "\"say \\\"hi\\\"\"");
    CHECK(sf("string", std::nullopt) == "null");
    std::string out, error;
    CHECK_FALSE(to_salesforce_json(field("int"), std::string("many"), out, error));
}

TEST_CASE("a datetime survives the round trip", "[unit][mappings]") {
    for (const char* v :
         {"2024-02-29T23:59:59.999Z", "1970-01-01T00:00:00.000Z", "2038-01-19T03:14:08.000Z"}) {
        const auto p = pg("datetime", kind::json_string, v);
        CHECK(sf("datetime", p) == "\"" + std::string(v) + "\"");
    }
}
