#include "mappings/mapping_builder.hpp"
#include "mappings/resolve.hpp"
#include "test/support/describes.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::mappings;
using sfbridge::test::describe_of;

namespace {
bool has(const std::vector<std::string>& notes, const std::string& text) {
    for (const auto& n : notes)
        if (n.find(text) != std::string::npos)
            return true;
    return false;
}
} // namespace

TEST_CASE("a mapping is built from a describe with the fields asked for and the system ones",
          "[unit][mappings][mapping_builder]") {
    std::string error;
    mapping_request req;
    req.fields = {"lastname", "Email", "MailingAddress"};
    req.access = access_mode::read_write;
    const auto b = build_mapping(*describe_of("Contact"), req, error);
    REQUIRE(b);
    const auto& f = b->m.fields;
    for (const char* name : {"Id", "SystemModstamp", "IsDeleted", "LastName", "Email",
                             "MailingStreet", "MailingCity", "MailingPostalCode"})
        CHECK(f.count(name) == 1);
    CHECK(f.count("MailingAddress") == 0); // flattened, as Heroku Connect does
    CHECK(has(b->notes, "MailingAddress: mapped as its parts"));
    CHECK(b->m.access == access_mode::read_write);
    CHECK(b->m.sf_notify_enabled);
    CHECK(b->m.sf_polling_seconds == 600);
    std::vector<std::string> errors, warnings;
    CHECK(resolve_mapping(b->m, describe_of("Contact"), errors, warnings)); // a run accepts it
    CHECK(errors.empty());
}

TEST_CASE("mapping all fields takes every one that can be synced and says what it left out",
          "[unit][mappings][mapping_builder]") {
    std::string error;
    mapping_request req;
    req.all = true;
    const auto b = build_mapping(*describe_of("Sim_Everything__c"), req, error);
    REQUIRE(b);
    const auto& f = b->m.fields;
    CHECK(f.count("Text__c") == 1);
    CHECK(f.count("Formula__c") == 1);
    CHECK(f.count("Location__Latitude__s") == 1);
    CHECK(f.count("Location__c") == 0);
    CHECK(f.count("Base64__c") == 0);
    CHECK(has(b->notes, "Base64__c: left out, a base64 field"));
    CHECK(has(b->notes, "Location__c: mapped as its parts"));
    std::vector<std::string> errors, warnings;
    CHECK(resolve_mapping(b->m, describe_of("Sim_Everything__c"), errors, warnings));
    CHECK(errors.empty());
}

TEST_CASE("mapping all of Contact keeps FirstName and LastName, whose compound field is the plain "
          "Name",
          "[unit][mappings][mapping_builder]") {
    std::string error;
    mapping_request req;
    req.all = true;
    req.access = access_mode::read_write;
    const auto b = build_mapping(*describe_of("Contact"), req, error);
    REQUIRE(b);
    for (const char* name : {"FirstName", "LastName", "Name", "MailingCity"})
        CHECK(b->m.fields.count(name) == 1);
    CHECK(b->m.fields.count("MailingAddress") == 0);
}

TEST_CASE("a field the describe does not list is an error that says why it may be missing",
          "[unit][mappings][mapping_builder]") {
    std::string error;
    mapping_request req;
    req.fields = {"LastName", "Secret__c"};
    CHECK_FALSE(build_mapping(*describe_of("Contact"), req, error));
    CHECK_THAT(error, Catch::Contains("Contact has no field Secret__c that the integration user "
                                      "can read (a field hidden by field-level security"));
}

TEST_CASE("a mapping is added to a file once", "[unit][mappings][mapping_builder]") {
    mapping_file file;
    mapping m;
    m.object_name = "Contact";
    std::string error;
    CHECK(add_mapping(file, m, error));
    m.object_name = "contact";
    CHECK_FALSE(add_mapping(file, m, error));
    CHECK_THAT(error, Catch::Contains("maps contact already"));
    CHECK(file.mappings.size() == 1);
}
