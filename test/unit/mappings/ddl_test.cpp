#include "mappings/ddl.hpp"
#include "test/support/describes.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;

namespace {
mappings::resolved_mapping contact() {
    mappings::mapping m;
    m.object_name = "Contact";
    m.fields.emplace("LastName", mappings::json_value::object{});
    m.fields.emplace("Email", mappings::json_value::object{});
    std::vector<std::string> errors, warnings;
    auto r = mappings::resolve_mapping(m, test::describe_of("Contact"), errors, warnings);
    REQUIRE(r);
    return *r;
}
} // namespace

TEST_CASE("a varchar column narrower than its field is widened, nothing else is touched",
          "[unit][mappings]") {
    const auto m = contact();
    std::map<std::string, int> lengths{{"lastname", 40}, {"email", 80}, {"systemmodstamp", 0}};
    CHECK(mappings::ddl::widen_columns("salesforce", m, lengths) ==
          "ALTER TABLE \"salesforce\".\"contact\" ALTER COLUMN \"lastname\" TYPE varchar(80);\n");
    lengths["lastname"] = 80; // as long as the field
    CHECK(mappings::ddl::widen_columns("salesforce", m, lengths).empty());
    lengths["lastname"] = 255; // wider: left wider
    CHECK(mappings::ddl::widen_columns("salesforce", m, lengths).empty());
    lengths["lastname"] = 0; // not a varchar (made text by hand): left alone
    CHECK(mappings::ddl::widen_columns("salesforce", m, lengths).empty());
}

TEST_CASE("a column follows its field's type change where its values convert, and names the "
          "field where they would not",
          "[unit][mappings]") {
    auto m = contact();
    m.fields.push_back(m.fields.back());
    m.fields.back().sf.info.name = "Score__c";
    m.fields.back().sf.info.type = "double";
    m.fields.back().column = "score__c";
    m.fields.back().pg_type = "double precision";
    std::map<std::string, mappings::ddl::existing_column> had{
        {"lastname", {"double precision", 0}},   // a number field made text: follows
        {"email", {"character varying", 80}},    // unchanged
        {"score__c", {"character varying", 40}}, // text made a number: cannot follow
        {"systemmodstamp", {"timestamp without time zone", 0}}};
    const std::vector<std::string> retyped{"lastname", "score__c"};
    auto plan = mappings::ddl::follow_types("salesforce", m, had, retyped);
    REQUIRE(plan.alters.size() == 1);
    CHECK(plan.alters[0].first == "lastname");
    CHECK(plan.alters[0].second == "ALTER TABLE \"salesforce\".\"contact\" ALTER COLUMN "
                                   "\"lastname\" TYPE varchar(80) USING \"lastname\"::text");
    REQUIRE(plan.skipped == std::vector<std::string>{"Score__c"});
    CHECK(plan.messages.at(0).find("mapping Contact: field Score__c is now double") !=
          std::string::npos);
    // Between numbers and between date and datetime the column follows too.
    had["score__c"] = {"integer", 0};
    plan = mappings::ddl::follow_types("salesforce", m, had, retyped);
    CHECK(plan.skipped.empty());
    REQUIRE(plan.alters.size() == 2);
    CHECK(plan.alters[1].second.find("ALTER COLUMN \"score__c\" TYPE double precision USING "
                                     "\"score__c\"::double precision") != std::string::npos);
    // A column Salesforce did not retype is left as the admin made it (numeric for money, say).
    plan = mappings::ddl::follow_types("salesforce", m, had, {});
    CHECK(plan.alters.empty());
    CHECK(plan.skipped.empty());
    // Retyped, and the column has the type already (an earlier start altered it): followed,
    // with nothing to run.
    had["score__c"] = {"double precision", 0};
    plan = mappings::ddl::follow_types("salesforce", m, had, {"score__c"});
    REQUIRE(plan.alters.size() == 1);
    CHECK(plan.alters[0] == std::pair<std::string, std::string>{"score__c", ""});
    // A text area grown past 4,000 characters keeps its type name: its varchar becomes text.
    m.fields.back().pg_type = "text";
    m.fields.back().sf.info.type = "textarea";
    had["score__c"] = {"character varying", 255};
    plan = mappings::ddl::follow_types("salesforce", m, had, {});
    REQUIRE(plan.alters.size() == 1);
    CHECK(plan.alters[0].second.find("TYPE text USING \"score__c\"::text") != std::string::npos);
}

TEST_CASE("a trigger is recreated only when its definition differs from the one in place",
          "[unit][ddl]") {
    const auto m = contact();
    const std::vector<std::string> existing;
    const auto a = mappings::ddl::ensure_table("salesforce", m, existing);
    // Each trigger in a block that checks the comment sfbridge leaves on it (a hash of the
    // definition), then drops, creates and comments it only when that is missing or different.
    CHECK(a.find("obj_description(oid, 'pg_trigger') = 'sfbridge ") != std::string::npos);
    CHECK(a.find("THEN DROP TRIGGER IF EXISTS \"hc_contact_status_trigger\" ON "
                 "\"salesforce\".\"contact\"; CREATE TRIGGER") != std::string::npos);
    CHECK(
        a.find("COMMENT ON TRIGGER \"hc_contact_status_trigger\" ON \"salesforce\".\"contact\" IS "
               "'sfbridge ") != std::string::npos);
    // The same definition gives the same tag, another schema's another.
    CHECK(mappings::ddl::ensure_table("salesforce", m, existing) == a);
    const auto b = mappings::ddl::ensure_table("crm", m, existing);
    const auto tag = [](const std::string& sql) {
        const auto at = sql.find("IS 'sfbridge ");
        return sql.substr(at, 30);
    };
    CHECK(tag(a) != tag(b));
}

TEST_CASE("a mapping with soft deletes gets its deleted-at column, made or added",
          "[unit][mappings]") {
    auto m = contact();
    CHECK(mappings::ddl::ensure_table("salesforce", m, {}).find("sfbridge_deleted_at") ==
          std::string::npos);
    m.options.deletes = mappings::delete_mode::soft;
    CHECK(mappings::ddl::ensure_table("salesforce", m, {})
              .find("    \"sfbridge_deleted_at\" timestamp without time zone,\n") !=
          std::string::npos);
    const std::vector<std::string> existing{"sfid",           "lastname",   "email",  "isdeleted",
                                            "systemmodstamp", "_hc_lastop", "_hc_err"};
    const auto alter = mappings::ddl::ensure_table("salesforce", m, existing);
    CHECK(alter.find("ALTER TABLE \"salesforce\".\"contact\" ADD COLUMN \"sfbridge_deleted_at\" "
                     "timestamp without time zone;") != std::string::npos);
    auto with = existing;
    with.push_back("sfbridge_deleted_at");
    CHECK(mappings::ddl::ensure_table("salesforce", m, with).find("sfbridge_deleted_at") ==
          std::string::npos);
}
