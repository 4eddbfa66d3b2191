#include "bridge/field_refresh.hpp"
#include "bridge/schema_change.hpp"
#include "test/support/describes.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;
namespace sc = sfbridge::bridge::schema_change;

namespace {
mappings::resolved_mapping contact(std::initializer_list<const char*> fields) {
    mappings::mapping m;
    m.object_name = "Contact";
    for (const char* f : fields)
        m.fields.emplace(f, mappings::json_value::object{});
    std::vector<std::string> errors, warnings;
    auto r = mappings::resolve_mapping(m, test::describe_of("Contact"), errors, warnings);
    REQUIRE(r);
    return *r;
}
} // namespace

TEST_CASE("added columns are back-filled, removed ones kept, and only a new row filter reloads",
          "[unit][bridge]") {
    auto d = sc::compare("sfid,lastname,systemmodstamp", "sfid,lastname,email,systemmodstamp");
    CHECK_FALSE(d.reload);
    CHECK(d.added == std::vector<std::string>{"email"});
    CHECK(d.removed.empty());
    d = sc::compare("sfid,lastname,email", "sfid,lastname");
    CHECK_FALSE(d.reload);
    CHECK(d.removed == std::vector<std::string>{"email"});
    CHECK(sc::compare("sfid,lastname WHERE (a = 1)", "sfid,lastname WHERE (a = 2)").reload);
    CHECK(sc::compare("sfid,lastname", "sfid,lastname WHERE (a = 2)").reload);
    CHECK_FALSE(sc::compare("", "sfid,lastname").reload); // never synced: it loads anyway

    // Pending from a start that died before the back-fill ended, plus those added now; a column
    // no longer mapped is dropped from the list.
    const auto m = contact({"LastName", "Email", "Title"});
    d = sc::compare("sfid,lastname", "sfid,lastname,title");
    CHECK(sc::backfill_after({"email", "gone__c"}, d, m) ==
          std::vector<std::string>{"email", "title"});
    d.reload = true;
    CHECK(sc::backfill_after({"email"}, d, m).empty());
    CHECK(sc::split_columns(sc::join_columns({"a", "b"})) == std::vector<std::string>{"a", "b"});
    CHECK(sc::split_columns("").empty());
}

TEST_CASE("a running mapping's fields gone from the describe or retyped are named",
          "[unit][bridge]") {
    const auto m = contact({"LastName", "Title"});
    auto now = *test::describe_of("Contact");
    CHECK(sc::fields_changed(m, now).empty());
    for (auto& f : now.fields)
        if (f.info.name == "Title")
            f.info.type = "double";
    CHECK(sc::fields_changed(m, now) == std::vector<std::string>{"Title"});
    std::erase_if(now.fields, [](const auto& f) { return f.info.name == "Title"; });
    CHECK(sc::fields_changed(m, now) == std::vector<std::string>{"Title"});
}

TEST_CASE("a refresh reads Id, SystemModstamp and the calculated fields and updates only rows at "
          "the version it read whose values differ",
          "[unit][bridge]") {
    auto m = contact({"LastName", "Title"});
    CHECK_FALSE(m.has_calculated_fields());
    for (auto& f : m.fields)
        if (f.column == "title")
            f.sf.calculated = true;
    REQUIRE(m.has_calculated_fields());
    const auto v = bridge::refresh_sql::view(m);
    CHECK(v.field_names() == std::vector<std::string>{"Id", "SystemModstamp", "Title"});
    CHECK(bridge::refresh_sql::update("sf", v) ==
          "UPDATE \"sf\".\"contact\" t SET \"title\" = s.\"title\" FROM "
          "\"_sfbridge_refresh_contact\" s WHERE t.sfid = s.sfid AND t.systemmodstamp = "
          "s.systemmodstamp AND ROW(t.\"title\") IS DISTINCT FROM ROW(s.\"title\") AND "
          "t._hc_lastop IS DISTINCT FROM 'PENDING' AND t._hc_lastop IS DISTINCT FROM 'FAILED'");
    CHECK(bridge::refresh_sql::create_stage(v).find("ON COMMIT DROP") != std::string::npos);
    // A back-fill's view: the columns named.
    const auto b = bridge::refresh_sql::view(m, {"lastname"});
    CHECK(b.field_names() == std::vector<std::string>{"Id", "LastName", "SystemModstamp"});
}

TEST_CASE("the fields' Salesforce types are kept so that a start finds the ones retyped since",
          "[unit][bridge]") {
    auto m = contact({"LastName", "Title"});
    const std::string kept = sc::field_types(m);
    CHECK(kept.find("lastname=string") != std::string::npos);
    auto stored = sc::parse_field_types(kept);
    CHECK(sc::retyped_columns(m, stored).empty());
    for (auto& f : m.fields)
        if (f.column == "title")
            f.sf.info.type = "textarea";
    CHECK(sc::retyped_columns(m, stored) == std::vector<std::string>{"title"});
    CHECK(sc::retyped_columns(m, {}).empty()); // nothing kept yet (a first start): none
    // A skipped field keeps the type it had, so the next start looks at it again.
    CHECK(sc::field_types(m, {{"gone__c", "double"}}).find("gone__c=double") != std::string::npos);
}

TEST_CASE("retyped columns that followed join the back-fill once, unless the table loads again",
          "[unit][bridge]") {
    const auto m = contact({"LastName", "Email", "Title"});
    auto d = sc::compare("sfid,lastname,email", "sfid,lastname,email,title");
    CHECK(sc::backfill_after({}, d, m, {"email", "title"}) ==
          std::vector<std::string>{"title", "email"});
    d.reload = true;
    CHECK(sc::backfill_after({}, d, m, {"email"}).empty());
}
