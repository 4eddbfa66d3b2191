#include "mappings/ddl.hpp"
#include "mappings/types.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::mappings;

namespace {
sf_field_info field(const char* name, const char* type, int length, const char* extra = "",
                    bool html = false) {
    sf_field_info f;
    f.name = name;
    f.type = type;
    f.length = length;
    f.extra_type_info = extra;
    f.html_formatted = html;
    return f;
}
} // namespace

TEST_CASE("Salesforce types map to Heroku Connect's Postgres types", "[unit][mappings]") {
    struct row {
        sf_field_info f;
        std::optional<std::string> expected;
    };
    // Examples from the reference's table (heroku-connect.md 1.5) and real DDL.
    const row rows[] = {
        {field("Id", "id", 18), "varchar(18)"},
        {field("AccountId", "reference", 18), "varchar(18)"},
        {field("Name", "string", 80), "varchar(80)"},
        {field("Alias", "string", 8), "varchar(8)"},
        {field("Industry", "picklist", 40), "varchar(40)"},
        {field("Complexity_Factors__c", "multipicklist", 4099), "varchar(4099)"},
        {field("AboutMe", "textarea", 1000, "plaintextarea"), "varchar(1000)"},
        {field("Description", "textarea", 32000, "plaintextarea"), "text"},
        {field("Supplies__c", "textarea", 32768, "richtextarea", true), "text"},
        {field("Email", "email", 80), "varchar(80)"},
        {field("Phone", "phone", 40), "varchar(40)"},
        {field("Website", "url", 255), "varchar(255)"},
        {field("IsDeleted", "boolean", 0), "boolean"},
        {field("Raised__c", "currency", 0), "double precision"},
        {field("BillingLatitude", "double", 0), "double precision"},
        {field("Probability", "percent", 0), "double precision"},
        {field("NumberOfEmployees", "int", 0), "integer"},
        {field("Birthdate", "date", 0), "date"},
        {field("SystemModstamp", "datetime", 0), "timestamp"},
        {field("Start__c", "time", 0), "time"},
        {field("CurrencyIsoCode", "picklist", 3), "varchar(3)"},
        {field("Secret__c", "encryptedstring", 175), "varchar(175)"},
        {field("Value__c", "anyType", 0), "text"},
        {field("Body", "base64", 0), "text"},
        {field("BillingAddress", "address", 0), std::nullopt},
        {field("Location__c", "location", 0), std::nullopt},
    };
    for (const auto& r : rows) {
        INFO(r.f.name << " " << r.f.type);
        CHECK(postgres_type(r.f) == r.expected);
    }
}

TEST_CASE("columns are lower case and identifiers always quoted", "[unit][mappings]") {
    CHECK(column_name("AccountNumber") == "accountnumber");
    CHECK(column_name("Number_Object__c") == "number_object__c");
    CHECK(column_name("Geolocation__Latitude__s") == "geolocation__latitude__s");
    CHECK(quote_identifier("user") == "\"user\"");
    CHECK(quote_identifier("we\"ird") == "\"we\"\"ird\"");
}

TEST_CASE("names over 63 bytes are shortened the same way everywhere and stay apart",
          "[unit][mappings]") {
    const std::string short_name(63, 'a');
    CHECK(pg_identifier(short_name) == short_name);
    // Two index names of long managed-package columns that share their first 63 bytes.
    const std::string base = "hcu_idx_ns__a_very_long_custom_object_name__c_ns__a_long_field";
    const std::string a = base + "_one__c", b = base + "_two__c";
    REQUIRE(a.substr(0, 63) == b.substr(0, 63)); // what Postgres would make of both
    CHECK(pg_identifier(a).size() == 63);
    CHECK(pg_identifier(a) != pg_identifier(b));
    CHECK(pg_identifier(a) == pg_identifier(a));
    CHECK(pg_identifier(a).substr(0, 54) == a.substr(0, 54));
    CHECK(pg_identifier(a)[54] == '_');
    // Trigger names and columns go through it too.
    const std::string table = "ns__an_object_with_a_name_as_long_as_salesforce_allows__c";
    CHECK(ddl::status_trigger_name(table).size() == 63);
    CHECK(ddl::status_trigger_name(table) != ddl::log_trigger_name(table));
    CHECK(column_name(std::string(70, 'X')) == pg_identifier(std::string(70, 'x')));
}
