#include "bridge/reconcile_plan.hpp"
#include "test/support/describes.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;
using bridge::writeback_entry;

namespace {

mappings::resolved_mapping everything() {
    mappings::mapping m;
    m.object_name = "Sim_Everything__c";
    m.access = mappings::access_mode::read_write;
    for (const char* f : {"Name", "Checkbox__c", "Number__c", "DateTime__c", "MultiPicklist__c"})
        m.fields.emplace(f, mappings::json_value::object{});
    std::vector<std::string> errors, warnings;
    auto r = mappings::resolve_mapping(m, test::describe_of("Sim_Everything__c"), errors, warnings);
    REQUIRE(r);
    return *r;
}

writeback_entry insert(std::int64_t id, const std::string& values, std::int64_t created_ms) {
    writeback_entry e;
    e.id = id;
    e.action_text = "INSERT";
    e.action = bridge::write_action::insert;
    e.table = "sim_everything__c";
    e.record_id = id;
    e.values = values;
    e.created_ms = created_ms;
    e.unknown = true;
    return e;
}

salesforce::flat_record candidate(const std::string& id, const std::string& name,
                                  const std::string& checkbox, const std::string& number) {
    salesforce::flat_record r;
    r.fields.push_back({"Id", sf_value_kind::json_string, id});
    r.fields.push_back({"Name", sf_value_kind::json_string, name});
    r.fields.push_back({"Checkbox__c", sf_value_kind::json_bool, checkbox});
    r.fields.push_back({"Number__c", sf_value_kind::json_number, number});
    return r;
}

} // namespace

TEST_CASE("a lost create is recognised by the values it sent that compare exactly",
          "[unit][writeback]") {
    const auto m = everything();
    auto e = insert(1,
                    R"("name"=>"Ada", "checkbox__c"=>"t", "number__c"=>"12.50", )"
                    R"("datetime__c"=>"2026-01-01 10:00:00", "multipicklist__c"=>"a;b", )"
                    R"("sfid"=>NULL, "id"=>"1")",
                    1'767'261'600'000);
    std::vector<writeback_entry*> es{&e};
    auto in = bridge::comparable_values(m, es);
    REQUIRE(in.sent.size() == 1);
    CHECK(in.unrecognisable.empty());
    // Datetimes and multi-select picklists are not compared (their text differs).
    std::set<std::string> names;
    for (const auto& [name, value] : in.sent[0].values)
        names.insert(name);
    CHECK(names == std::set<std::string>{"Name", "Checkbox__c", "Number__c"});

    CHECK(bridge::matches(in.sent[0], candidate("a0X000000000001AAA", "Ada", "true", "12.5")));
    CHECK_FALSE(
        bridge::matches(in.sent[0], candidate("a0X000000000001AAA", "Ada", "false", "12.5")));
    CHECK_FALSE(
        bridge::matches(in.sent[0], candidate("a0X000000000001AAA", "Ada ", "true", "12.5")));
    CHECK_FALSE(
        bridge::matches(in.sent[0], candidate("a0X000000000001AAA", "Ada", "true", "12.51")));
    auto missing = candidate("a0X000000000001AAA", "Ada", "true", "12.5");
    missing.fields.pop_back();
    CHECK_FALSE(bridge::matches(in.sent[0], missing));
}

TEST_CASE("the candidates are the integration user's records since the capture less a margin",
          "[unit][writeback]") {
    const auto m = everything();
    auto a = insert(1, R"("name"=>"Ada", "number__c"=>"1")", 1'767'261'600'000);
    auto b = insert(2, R"("name"=>"Bo", "checkbox__c"=>"f")", 1'767'261'500'000);
    std::vector<writeback_entry*> es{&a, &b};
    auto in = bridge::comparable_values(m, es);
    const auto soql = bridge::reconcile_query(m, in.sent, "005000000000001AAA");
    // 1767261500000 ms less five minutes is 2026-01-01T09:53:20Z.
    CHECK(soql == "SELECT Id, IsDeleted, Name, Number__c, Checkbox__c FROM Sim_Everything__c WHERE "
                  "CreatedDate >= 2026-01-01T09:53:20.000Z AND CreatedById = "
                  "'005000000000001AAA' AND Name IN ('Ada','Bo')");
    CHECK(bridge::reconcile_query(m, in.sent, "").find("CreatedById") == std::string::npos);
}

TEST_CASE("each candidate is adopted once and never one another row holds", "[unit][writeback]") {
    const auto m = everything();
    auto a = insert(1, R"("name"=>"Twin")", 0);
    auto b = insert(2, R"("name"=>"Twin")", 0);
    auto c = insert(3, R"("name"=>"Twin")", 0);
    auto nothing = insert(4, R"("sfid"=>NULL, "id"=>"4")", 0);
    std::vector<writeback_entry*> es{&a, &b, &c, &nothing};
    auto in = bridge::comparable_values(m, es);
    REQUIRE(in.sent.size() == 3);
    REQUIRE(in.unrecognisable == std::vector<writeback_entry*>{&nothing});
    std::vector<salesforce::flat_record> found;
    for (const char* id : {"a0X000000000001AAA", "a0X000000000002AAA", "a0X000000000003AAA"}) {
        salesforce::flat_record r;
        r.fields.push_back({"Id", sf_value_kind::json_string, id});
        r.fields.push_back({"Name", sf_value_kind::json_string, "Twin"});
        found.push_back(r);
    }
    const std::set<std::string> taken{"a0X000000000002AAA"};
    auto ids = bridge::assign_candidates(in.sent, found, taken);
    CHECK(ids == std::vector<std::string>{"a0X000000000001AAA", "a0X000000000003AAA", ""});
}

TEST_CASE("a lost create's answer makes the entry unknown and keeps it pending",
          "[unit][writeback]") {
    auto e = insert(1, R"("name"=>"Ada")", 0);
    e.unknown = false;
    salesforce::record_result r;
    r.attempted = true;
    r.unknown = true;
    CHECK(bridge::apply_result(e, r, false));
    CHECK(e.pending());
    CHECK(e.unknown);
    const auto m = everything();
    std::vector<writeback_entry*> es{&e};
    auto plan = bridge::plan_inserts(m, es);
    CHECK(plan.creates.empty()); // reconciled first, never created blindly
}

TEST_CASE("a lost create's record the app changed since is compared on the other fields",
          "[unit][writeback]") {
    const auto m = everything();
    auto e = insert(1, R"("name"=>"Ada", "checkbox__c"=>"t", "number__c"=>"12.5")", 0);
    std::vector<writeback_entry*> es{&e};
    auto in = bridge::comparable_values(m, es);
    REQUIRE(in.sent.size() == 1);
    // The app renamed the record's echo row and Salesforce has that name now.
    const auto changed = candidate("a0X000000000001AAA", "Ada Lovelace", "true", "12.5");
    CHECK_FALSE(bridge::matches(in.sent[0], changed));
    const auto own = bridge::written_fields(
        m, {{"a0X000000000001AAA", R"("name"=>"Ada Lovelace", "not_mapped"=>"x")"},
            {"a0X000000000002AAA", "not hstore"}});
    CHECK(own == bridge::own_writes{{"a0X000000000001AAA", {"name"}}});
    CHECK(bridge::matches(in.sent[0], changed, &own.at("a0X000000000001AAA")));
    // A field the app did not change still has to hold the value sent.
    const auto other = candidate("a0X000000000001AAA", "Ada Lovelace", "false", "12.5");
    CHECK_FALSE(bridge::matches(in.sent[0], other, &own.at("a0X000000000001AAA")));
    // With nothing left to compare, or only a checkbox, no record is recognised.
    const std::set<std::string> all{"name", "checkbox__c", "number__c"};
    CHECK_FALSE(bridge::matches(in.sent[0], changed, &all));
    const std::set<std::string> but_checkbox{"name", "number__c"};
    CHECK_FALSE(bridge::matches(in.sent[0], changed, &but_checkbox));
    const std::set<std::string> but_name{"checkbox__c", "number__c"};
    CHECK(bridge::matches(in.sent[0], candidate("a0X000000000001AAA", "Ada", "false", "1"),
                          &but_name)); // a typed name alone is evidence
    CHECK(bridge::assign_candidates(in.sent, {changed}, {}, own) ==
          std::vector<std::string>{"a0X000000000001AAA"});
    CHECK(bridge::assign_candidates(in.sent, {changed}, {}) == std::vector<std::string>{""});
    // The second look has no value filter, newest first and bounded.
    CHECK(bridge::reconcile_query(m, in.sent, "005000000000001AAA", false) ==
          "SELECT Id, IsDeleted, Name, Checkbox__c, Number__c, CreatedDate, LastModifiedDate FROM "
          "Sim_Everything__c WHERE CreatedDate >= "
          "1969-12-31T23:55:00.000Z AND CreatedById = '005000000000001AAA' ORDER BY CreatedDate "
          "DESC LIMIT 2000");
}

namespace {

salesforce::flat_record stamped(salesforce::flat_record r, const char* created,
                                const char* modified) {
    r.fields.push_back({"CreatedDate", sf_value_kind::json_string, created});
    r.fields.push_back({"LastModifiedDate", sf_value_kind::json_string, modified});
    return r;
}

} // namespace

TEST_CASE("a lost create's record someone changed since is adopted only by a unique resemblance",
          "[unit][writeback]") {
    const auto m = everything();
    auto ada = insert(1, R"("name"=>"Ada", "checkbox__c"=>"t", "number__c"=>"12.5")", 0);
    auto bo = insert(2, R"("name"=>"Bo", "checkbox__c"=>"f", "number__c"=>"7")", 0);
    std::vector<writeback_entry*> es{&ada, &bo};
    auto in = bridge::comparable_values(m, es);
    REQUIRE(in.sent.size() == 2);
    const char* at = "2026-11-30T07:15:00.120+0000";
    const char* later = "2026-11-30T07:15:09.480+0000";
    // A user unticked Ada's checkbox before the lost answer was noticed: name and number hold.
    const auto ada_edited =
        stamped(candidate("a0X000000000001AAA", "Ada", "false", "12.5"), at, later);
    CHECK(bridge::changed_since_created(ada_edited));
    CHECK_FALSE(bridge::matches(in.sent[0], ada_edited));
    CHECK(bridge::resembles(in.sent[0], ada_edited));
    CHECK_FALSE(bridge::resembles(in.sent[1], ada_edited));
    CHECK(bridge::assign_changed(in.sent, {ada_edited}, {}) ==
          std::vector<std::string>{"a0X000000000001AAA", ""});
    // Never saved since its creation: its values are the create's, and they differ.
    const auto unchanged = stamped(candidate("a0X000000000001AAA", "Ada", "false", "12.5"), at, at);
    CHECK_FALSE(bridge::changed_since_created(unchanged));
    CHECK(bridge::assign_changed(in.sent, {unchanged}, {}) == std::vector<std::string>{"", ""});
    // Held by another row: never adopted.
    CHECK(bridge::assign_changed(in.sent, {ada_edited}, {"a0X000000000001AAA"}) ==
          std::vector<std::string>{"", ""});
    // The typed name changed and only a checkbox and a number hold: no evidence.
    const auto renamed =
        stamped(candidate("a0X000000000003AAA", "Ada L.", "true", "12.5"), at, later);
    CHECK_FALSE(bridge::resembles(in.sent[0], renamed));
    // More fields differ than hold: not recognised.
    const auto mostly = stamped(candidate("a0X000000000004AAA", "Ada", "false", "3"), at, later);
    CHECK_FALSE(bridge::resembles(in.sent[0], mostly));
    // Two candidates resemble the same create: which one is a guess, so neither is adopted.
    const auto twin = stamped(candidate("a0X000000000005AAA", "Ada", "true", "99"), at, later);
    CHECK(bridge::assign_changed(in.sent, {ada_edited, twin}, {}) ==
          std::vector<std::string>{"", ""});
    // One candidate resembling two creates is not adopted either.
    auto ada2 = insert(3, R"("name"=>"Ada", "checkbox__c"=>"t", "number__c"=>"1")", 0);
    std::vector<writeback_entry*> two{&ada, &ada2};
    auto in2 = bridge::comparable_values(m, two);
    const auto plain = stamped(candidate("a0X000000000006AAA", "Ada", "true", "5"), at, later);
    CHECK(bridge::assign_changed(in2.sent, {plain}, {}) == std::vector<std::string>{"", ""});
}

TEST_CASE("a lost create's record a user changed and then deleted is found in the recycle bin, "
          "live records first",
          "[unit][writeback]") {
    const auto m = everything();
    auto ada = insert(1, R"("name"=>"Ada", "checkbox__c"=>"t", "number__c"=>"12.5")", 0);
    auto bo = insert(2, R"("name"=>"Bo", "checkbox__c"=>"f", "number__c"=>"7")", 0);
    std::vector<writeback_entry*> es{&ada, &bo};
    auto in = bridge::comparable_values(m, es);
    REQUIRE(in.sent.size() == 2);
    const char* at = "2026-11-30T07:15:00.120+0000";
    const char* later = "2026-11-30T07:15:09.480+0000";
    const auto binned = [](salesforce::flat_record r) {
        r.fields.push_back({"IsDeleted", sf_value_kind::json_bool, "true"});
        return r;
    };
    // Seed 1074: a user unticked Ada's checkbox, then deleted the record, before the look.
    const auto gone =
        binned(stamped(candidate("a0X000000000001AAA", "Ada", "false", "12.5"), at, later));
    CHECK(bridge::assign_changed_live_first(in.sent, {gone}, {}) ==
          std::vector<std::string>{"a0X000000000001AAA", ""});
    // A live record resembling the create is preferred to the bin's.
    const auto live = stamped(candidate("a0X000000000002AAA", "Ada", "true", "3"), at, later);
    CHECK(bridge::resembles(in.sent[0], live));
    CHECK(bridge::assign_changed_live_first(in.sent, {gone, live}, {}) ==
          std::vector<std::string>{"a0X000000000002AAA", ""});
    // Two live records resembling it: ambiguous, and the bin does not settle it.
    const auto twin = stamped(candidate("a0X000000000003AAA", "Ada", "true", "99"), at, later);
    CHECK(bridge::resembles(in.sent[0], twin));
    CHECK(bridge::assign_changed_live_first(in.sent, {gone, live, twin}, {}) ==
          std::vector<std::string>{"", ""});
    // Held by another row (or deleted by the app through one of its rows): never adopted.
    CHECK(bridge::assign_changed_live_first(in.sent, {gone}, {"a0X000000000001AAA"}) ==
          std::vector<std::string>{"", ""});
}

TEST_CASE("an upsert's record in the recycle bin is found when no live record holds its key",
          "[unit][writeback]") {
    const auto rec = [](const std::string& id, const std::string& key, bool deleted) {
        salesforce::flat_record r;
        r.fields.push_back({"Id", sf_value_kind::json_string, id});
        r.fields.push_back({"IsDeleted", sf_value_kind::json_bool, deleted ? "true" : "false"});
        r.fields.push_back({"External_Id__c", sf_value_kind::json_string, key});
        return r;
    };
    // Newest first, as queried: a key whose newest binned record is taken, one that lives, one
    // that is nowhere, and one in another case (external ids compare without case).
    const std::vector<salesforce::flat_record> records{
        rec("a0X000000000003AAA", "K-1", true), rec("a0X000000000001AAA", "K-1", true),
        rec("a0X000000000002AAA", "K-2", true), rec("a0X000000000004AAA", "k-2", false),
        rec("a0X000000000005AAA", "k-4", true)};
    const std::vector<std::string> keys{"K-1", "K-2", "K-3", "K-4"};
    CHECK(bridge::binned_upserts(keys, "External_Id__c", records) ==
          std::vector<std::string>{"a0X000000000003AAA", "", "", "a0X000000000005AAA"});
}
