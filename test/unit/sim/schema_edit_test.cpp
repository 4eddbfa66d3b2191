#include "sim/org.hpp"
#include "sim/schema_edit.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::sim;

namespace {
schema fresh_schema() {
    schema s;
    s.load_directory(SFSIM_SCHEMA_DIR);
    return s;
}
value number(double d) {
    return value(d);
}
} // namespace

TEST_CASE("sfsim adds a formula field and computes it without a new SystemModstamp",
          "[unit][sim]") {
    schema s = fresh_schema();
    org data(s, 1);
    object_def& opp = *s.find_mutable("Opportunity");
    sf_error err;
    const std::string id =
        data.create(opp,
                    {{opp.index_of("Name"), value(std::string("Deal"))},
                     {opp.index_of("StageName"), value(std::string("Prospecting"))},
                     {opp.index_of("CloseDate"), value(std::string("2026-12-31"))},
                     {opp.index_of("Amount"), number(100)}},
                    {}, err);
    REQUIRE(!id.empty());
    const record* r = data.get(opp, id);
    const value stamp = r->get(opp.index_of("SystemModstamp"));

    field_change change;
    std::string error;
    REQUIRE(edit_field(s, opp, R"({"name":"Doubled__c","type":"double","formula":"Amount * 2"})",
                       change, error));
    CHECK(change.added);
    data.field_changed(opp, change.index, change.old_type);
    CHECK(r->get(opp.index_of("Doubled__c")) == number(200));
    CHECK(r->get(opp.index_of("SystemModstamp")) == stamp);

    // An admin edits the formula: every record's value changes, none is saved.
    REQUIRE(edit_field(s, opp, R"({"name":"Doubled__c","formula":"Amount * 3"})", change, error));
    CHECK_FALSE(change.added);
    data.field_changed(opp, change.index, change.old_type);
    CHECK(r->get(opp.index_of("Doubled__c")) == number(300));
    CHECK(r->get(opp.index_of("SystemModstamp")) == stamp);

    // A save of the record computes it too.
    REQUIRE(data.update(opp, id, {{opp.index_of("Amount"), number(10)}}, {}, err));
    CHECK(r->get(opp.index_of("Doubled__c")) == number(30));

    const std::string d = opp.describe("60.0");
    CHECK(d.find(R"("name":"Doubled__c")") != std::string::npos);
    CHECK(d.find(R"("calculatedFormula":"Amount * 3")") != std::string::npos);
    CHECK(d.find("/services/data/v60.0/sobjects/Opportunity") != std::string::npos);
}

TEST_CASE("sfsim keeps a roll-up summary of a child object up to date", "[unit][sim]") {
    schema s = fresh_schema();
    org data(s, 1);
    object_def& account = *s.find_mutable("Account");
    const object_def& contact = *s.find("Contact");
    sf_error err;
    const std::string a =
        data.create(account, {{account.index_of("Name"), value(std::string("A"))}}, {}, err);
    const std::string b =
        data.create(account, {{account.index_of("Name"), value(std::string("B"))}}, {}, err);
    field_change change;
    std::string error;
    CHECK_FALSE(edit_field(s, account,
                           R"({"name":"Contacts__c","type":"double","rollup":{"child":"Contact",
                               "via":"OwnerId","op":"COUNT"}})",
                           change, error));
    CHECK(error.find("lookup to Account") != std::string::npos);
    REQUIRE(edit_field(s, account,
                       R"({"name":"Contacts__c","type":"double","rollup":{"child":"Contact",
                           "via":"AccountId","op":"COUNT"}})",
                       change, error));
    data.field_changed(account, change.index, change.old_type);
    const int count = account.index_of("Contacts__c");
    const record* ra = data.get(account, a);
    const record* rb = data.get(account, b);
    CHECK(ra->get(count) == number(0));
    const value stamp = ra->get(account.index_of("SystemModstamp"));

    data.set_clock_offset(60000); // the children's saves come later than the parents'
    auto contact_of = [&](const std::string& parent) {
        return data.create(contact,
                           {{contact.index_of("LastName"), value(std::string("X"))},
                            {contact.index_of("AccountId"), value(parent)}},
                           {}, err);
    };
    const std::string c1 = contact_of(a);
    contact_of(a);
    CHECK(ra->get(count) == number(2));
    // The parent goes through a save of its own (Salesforce's order of execution).
    CHECK(ra->get(account.index_of("SystemModstamp")) != stamp);
    // Moved to another parent: both change; deleted: counted no more.
    REQUIRE(data.update(contact, c1, {{contact.index_of("AccountId"), value(b)}}, {}, err));
    CHECK(ra->get(count) == number(1));
    CHECK(rb->get(count) == number(1));
    REQUIRE(data.remove(contact, c1, {}, err));
    CHECK(rb->get(count) == number(0));
    // A SUM over a field the child does not have is refused.
    CHECK_FALSE(edit_field(s, account,
                           R"({"name":"Contacts__c","rollup":{"child":"Contact","via":"AccountId",
                               "op":"SUM","field":"Nope__c"}})",
                           change, error));
    CHECK(error.find("SUM needs a number") != std::string::npos);
}

TEST_CASE("sfsim removes, widens and retypes fields at run time", "[unit][sim]") {
    schema s = fresh_schema();
    org data(s, 1);
    object_def& contact = *s.find_mutable("Contact");
    sf_error err;
    const std::string id = data.create(contact,
                                       {{contact.index_of("LastName"), value(std::string("X"))},
                                        {contact.index_of("Department"), value(std::string("42"))},
                                        {contact.index_of("Title"), value(std::string("Boss"))}},
                                       {}, err);
    const int title = contact.index_of("Title");
    std::string error;
    REQUIRE(hide_field(contact, "Title", error));
    CHECK(contact.index_of("Title") < 0);
    CHECK(contact.describe("60.0").find(R"("name":"Title")") == std::string::npos);
    CHECK_FALSE(hide_field(contact, "SystemModstamp", error));
    CHECK_FALSE(hide_field(contact, "NoSuch__c", error));

    // Given again, it comes back with its values.
    field_change change;
    REQUIRE(edit_field(s, contact, R"({"name":"Title","length":255})", change, error));
    CHECK(change.index == title);
    CHECK(contact.find("Title")->length == 255);
    CHECK(data.get(contact, id)->get(title) == value(std::string("Boss")));

    REQUIRE(edit_field(s, contact, R"({"name":"Department","type":"double"})", change, error));
    REQUIRE(change.old_type == field_type::string);
    data.field_changed(contact, change.index, change.old_type);
    CHECK(data.get(contact, id)->get(change.index) == number(42));
    CHECK(contact.describe("60.0").find(R"("name":"Department")") != std::string::npos);

    CHECK_FALSE(edit_field(s, contact, R"({"name":"X__c","type":"nonsense"})", change, error));
    CHECK_FALSE(edit_field(s, contact, R"({"type":"string"})", change, error));
}
