#include "mappings/filter.hpp"
#include "mappings/resolve.hpp"
#include "mappings/soql.hpp"
#include "test/support/describes.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace sfbridge::mappings;
using sfbridge::test::describe_of;

namespace {
// Parses and checks `text` against every field of Sim_Everything__c; the error when it fails.
std::optional<filter_node> checked(const std::string& text, std::string& error) {
    auto n = parse_filter(text, error);
    if (!n)
        return n;
    const auto* d = describe_of("Sim_Everything__c");
    const auto mapped = [&](std::string_view name) { return d->field(name); };
    if (!check_filter(*n, mapped, error))
        return std::nullopt;
    return n;
}

std::string soql_of(const std::string& text) {
    std::string error;
    auto n = checked(text, error);
    INFO(text << ": " << error);
    REQUIRE(n);
    return filter_soql(*n);
}

std::string error_of(const std::string& text) {
    std::string error;
    CHECK_FALSE(checked(text, error));
    return error;
}

// Whether a row (column values by API name, as Postgres prints them; "?" for a field not
// known) matches `text`.
filter_result row_test(const std::string& text, const std::map<std::string, std::string>& row) {
    std::string error;
    auto n = checked(text, error);
    INFO(text << ": " << error);
    REQUIRE(n);
    const auto* d = describe_of("Sim_Everything__c");
    return filter_matches(
        *n,
        [&](std::string_view f) {
            const auto it = row.find(std::string(f));
            if (it == row.end())
                return filter_value{true, std::nullopt};
            return it->second == "?" ? filter_value{false, std::nullopt}
                                     : filter_value{true, it->second};
        },
        [&](std::string_view f) { return d->field(f); });
}

bool row_matches(const std::string& text, const std::map<std::string, std::string>& row) {
    return row_test(text, row) == filter_result::match;
}
} // namespace

TEST_CASE("a row filter is read as SOQL's WHERE and written out again, names as the describe "
          "spells them",
          "[unit][mappings][filter]") {
    CHECK(soql_of("text__c = 'Active' AND picklist__c IN ('EU','US')") ==
          "Text__c = 'Active' AND Picklist__c IN ('EU', 'US')");
    CHECK(soql_of("Number__c >= 10 or not (Checkbox__c = true)") ==
          "Number__c >= 10 OR (NOT Checkbox__c = true)");
    // Every AND, OR and NOT inside another in parentheses, as Salesforce wants them.
    CHECK(soql_of("NOT (Int__c = 1 OR Int__c = 2) AND (Int__c = 3 OR (Int__c = 4 AND Int__c = "
                  "5))") ==
          "(NOT (Int__c = 1 OR Int__c = 2)) AND (Int__c = 3 OR (Int__c = 4 AND Int__c = 5))");
    CHECK(soql_of("(Int__c = 1 AND Int__c = 2) OR NOT NOT Int__c = 3") ==
          "(Int__c = 1 AND Int__c = 2) OR (NOT (NOT Int__c = 3))");
    CHECK(soql_of("((Int__c = 1))") == "Int__c = 1");
    CHECK(soql_of("Text__c <> null") == "Text__c != null");
    CHECK(soql_of("Text__c NOT IN ('a', null)") == "Text__c NOT IN ('a', null)");
    CHECK(soql_of("Text__c LIKE 'Acme\\_%'") == "Text__c LIKE 'Acme\\_%'");
    CHECK(soql_of("Text__c = 'O\\'Brien'") == "Text__c = 'O\\'Brien'");
    CHECK(soql_of("Date__c > 2024-01-31 AND DateTime__c < 2024-01-31T10:00:00Z") ==
          "Date__c > 2024-01-31 AND DateTime__c < 2024-01-31T10:00:00.000Z");
    CHECK(soql_of("Text__c = 'a\\\\%'") == "Text__c = 'a\\\\%'"); // a backslash, then %
    CHECK(soql_of("Int__c = -5 AND Currency__c < 1.5") == "Int__c = -5 AND Currency__c < 1.5");
    CHECK(soql_of("(Text__c = 'a' OR Text__c = 'b') AND Int__c = 1") ==
          "(Text__c = 'a' OR Text__c = 'b') AND Int__c = 1");
}

TEST_CASE("a row filter that cannot work is refused, saying why", "[unit][mappings][filter]") {
    CHECK_THAT(error_of(""), Catch::Contains("empty"));
    CHECK_THAT(error_of("Text__c = 'open"), Catch::Contains("no closing quote"));
    CHECK_THAT(error_of("Text__c = 'a' AND"), Catch::Contains("field name is expected"));
    CHECK_THAT(error_of("Id IN (SELECT Id FROM Account)"), Catch::Contains("sub-queries"));
    CHECK_THAT(error_of("Account__r.Name = 'x'"), Catch::Contains("relationship paths"));
    CHECK_THAT(error_of("MultiPicklist__c INCLUDES ('a')"), Catch::Contains("INCLUDES"));
    CHECK_THAT(error_of("Date__c = TODAY"), Catch::Contains("date literals"));
    CHECK_THAT(error_of("Date__c = LAST_N_DAYS:7"), Catch::Contains("date literals"));
    CHECK_THAT(error_of("Date__c = 2024-02-30"), Catch::Contains("neither a date"));
    CHECK_THAT(error_of("(Text__c = 'a'"), Catch::Contains("')' is missing"));
    CHECK_THAT(error_of("Text__c = 'a' Int__c = 1"), Catch::Contains("unexpected 'Int__c'"));
    CHECK_THAT(error_of("Nope__c = 1"), Catch::Contains("Nope__c is not a mapped field"));
    CHECK_THAT(error_of("Number__c = 'ten'"), Catch::Contains("compare it with a number"));
    CHECK_THAT(error_of("Text__c = 5"), Catch::Contains("compare it with a quoted string"));
    CHECK_THAT(error_of("Checkbox__c > false"), Catch::Contains("= or != only"));
    CHECK_THAT(error_of("Number__c LIKE '1%'"), Catch::Contains("LIKE needs a text field"));
    CHECK_THAT(error_of("Number__c < null"), Catch::Contains("null can only be compared"));
    CHECK_THAT(error_of("Date__c = 2024-01-31T10:00:00Z"), Catch::Contains("a date (2024"));
    CHECK_THAT(error_of("Time__c = '10:00'"), Catch::Contains("time fields"));
    CHECK_THAT(error_of("Formula__c = 'x'"), Catch::Contains("Formula__c is a formula field"));
    CHECK_THAT(error_of("LongTextArea__c = 'x'"), Catch::Contains("cannot be filtered on"));
    CHECK_THAT(error_of("Int__c = 1 AND Int__c = 2 OR Int__c = 3"),
               Catch::Contains("AND and OR mixed without parentheses"));
    CHECK_THAT(error_of("Int__c = 1 OR Int__c = 2 AND Int__c = 3"),
               Catch::Contains("AND and OR mixed without parentheses"));
    CHECK_THAT(error_of("Text__c = 'a\\%'"), Catch::Contains("escape LIKE's wildcards"));
    CHECK_THAT(error_of("Text__c ~ 'a'"), Catch::Contains("unexpected character '~'"));
    CHECK_THAT(error_of(std::string(100000, '(')), Catch::Contains("nests more than 64"));
    CHECK_THAT(error_of(std::string(100, '(') + "Int__c = 1" + std::string(100, ')')),
               Catch::Contains("nests more than 64"));
    std::string nots;
    for (int i = 0; i < 70; ++i)
        nots += "NOT ";
    CHECK_THAT(error_of(nots + "Int__c = 1"), Catch::Contains("nests more than 64"));
    CHECK(soql_of(std::string(60, '(') + "Int__c = 1" + std::string(60, ')')) == "Int__c = 1");
}

TEST_CASE("a row is tested against a filter as Salesforce tests the record",
          "[unit][mappings][filter]") {
    const std::map<std::string, std::string> row = {
        {"Text__c", "Active"}, {"Picklist__c", "EU"},     {"Number__c", "12.5"},
        {"Checkbox__c", "t"},  {"Date__c", "2024-01-31"}, {"DateTime__c", "2024-01-31 10:00:00.25"},
        {"Name", "Acme_1 ünï"}};
    // Text ignores case; numbers, dates and datetimes compare as values.
    CHECK(row_matches("Text__c = 'active' AND Picklist__c IN ('eu', 'US')", row));
    CHECK_FALSE(row_matches("Text__c = 'Inactive'", row));
    CHECK(row_matches("Number__c > 9.5 AND Number__c <= 12.5", row));
    CHECK_FALSE(row_matches("Number__c > 100", row));
    CHECK(row_matches("Checkbox__c = true", row));
    CHECK(row_matches("Date__c >= 2024-01-31 AND Date__c < 2024-02-01", row));
    CHECK(row_matches("DateTime__c > 2024-01-31T10:00:00Z", row));
    CHECK_FALSE(row_matches("DateTime__c > 2024-01-31T10:00:00.250Z", row));
    CHECK(row_matches("NOT Text__c = 'x' OR Number__c = 0", row));
    // LIKE: % and _ (one character, however many bytes), escapes, case.
    CHECK(row_matches("Name LIKE 'acme\\_%'", row));
    CHECK(row_matches("Name LIKE '%_n_'", row));
    CHECK_FALSE(row_matches("Name LIKE 'acme\\%%'", row));
    CHECK(row_matches("Name LIKE '%1%ü%'", row));
    // A null field (absent here) fails every test but = null, != and NOT IN.
    CHECK(row_matches("Email__c = null", row));
    CHECK(row_matches("Email__c != 'a@b.c'", row));
    CHECK(row_matches("Email__c NOT IN ('a@b.c')", row));
    CHECK(row_matches("Email__c IN ('a@b.c', null)", row));
    CHECK_FALSE(row_matches("Email__c IN ('a@b.c')", row));
    CHECK_FALSE(row_matches("Email__c LIKE '%'", row));
    CHECK_FALSE(row_matches("Int__c < 5", row));
    CHECK_FALSE(row_matches("Text__c = null", row));
}

TEST_CASE("a row's empty text is null, a null checkbox false, and a field Salesforce has not "
          "filled yet is unknown",
          "[unit][mappings][filter]") {
    const std::map<std::string, std::string> row = {
        {"Text__c", ""}, {"Picklist__c", "?"}, {"Int__c", "3"}};
    CHECK(row_matches("Text__c = null", row));
    CHECK(row_matches("Checkbox__c = false AND Checkbox__c = null", row));
    CHECK_FALSE(row_matches("Checkbox__c != null", row));
    CHECK(row_test("Picklist__c = 'EU'", row) == filter_result::unknown);
    CHECK(row_test("NOT Picklist__c = 'EU'", row) == filter_result::unknown);
    CHECK(row_test("Picklist__c = 'EU' AND Int__c = 4", row) == filter_result::no_match);
    CHECK(row_test("Picklist__c = 'EU' OR Int__c = 3", row) == filter_result::match);
    CHECK(row_test("Picklist__c = 'EU' AND Int__c = 3", row) == filter_result::unknown);
    CHECK(row_test("Picklist__c = 'EU' OR Int__c = 4", row) == filter_result::unknown);
}

TEST_CASE("a LIKE over a long value stays linear", "[unit][mappings][filter]") {
    std::map<std::string, std::string> row = {{"Text__c", std::string(131072, 'a')}};
    CHECK_FALSE(row_matches("Text__c LIKE '%a%a%a%a%a%a%a%b'", row));
    CHECK(row_matches("Text__c LIKE '%a%a%a%a%a%a%a%'", row));
}

TEST_CASE("queries carry the row filter", "[unit][mappings][filter]") {
    std::string error;
    CHECK(soql::select_all("Contact", {"Id", "Email"}, error, "Email != null") ==
          "SELECT Id, Email FROM Contact WHERE (Email != null)");
    CHECK(soql::modstamp_window("Contact", {"Id"}, 0, 1000, error, "Email != null")
              ->find(" AND SystemModstamp <= 1970-01-01T00:00:01.000Z AND (Email != null) "
                     "ORDER BY") != std::string::npos);
    const auto by_ids = soql::by_ids("Contact", {"Id"}, {"003000000000001AAA"}, 10, error, "A = 1");
    REQUIRE(by_ids);
    CHECK(by_ids->front() ==
          "SELECT Id FROM Contact WHERE Id IN ('003000000000001AAA') AND (A = 1)");
    CHECK(soql::filter_clause("A = 1", soql::filter_position::after_condition) == " AND (A = 1)");
    CHECK(soql::filter_clause("", soql::filter_position::whole_where).empty());
    CHECK(soql::select_all("Contact", {"Id"}, error) == "SELECT Id FROM Contact");
}

TEST_CASE("a mapping's filter is read from its config and checked against its mapped fields",
          "[unit][mappings][filter]") {
    std::vector<std::string> errors, warnings;
    mapping m;
    m.object_name = "Contact";
    for (const char* f : {"Id", "LastName", "Email"})
        m.fields.emplace(f, json_value::object{});
    m.extra_config["sfbridge_filter"] = json_value("email != null AND LastName LIKE 'A%'");
    auto r = resolve_mapping(m, describe_of("Contact"), errors, warnings);
    REQUIRE(r);
    CHECK(r->filter_soql() == "Email != null AND LastName LIKE 'A%'");
    m.extra_config["sfbridge_filter"] = json_value("Title = 'CEO'");
    CHECK_FALSE(resolve_mapping(m, describe_of("Contact"), errors, warnings));
    REQUIRE_FALSE(errors.empty());
    CHECK_THAT(errors.back(),
               Catch::Contains("mapping Contact: sfbridge_filter: Title is not a mapped field"));
    m.extra_config["sfbridge_filter"] = json_value(true);
    CHECK_FALSE(resolve_mapping(m, describe_of("Contact"), errors, warnings));
    CHECK_THAT(errors.back(), Catch::Contains("sfbridge_filter must be a SOQL condition"));
}
