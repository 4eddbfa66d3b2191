#include "bridge/writeback_plan.hpp"
#include "test/support/describes.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;
using bridge::writeback_entry;
using result = writeback_entry::result;

namespace {

mappings::resolved_mapping everything(bool with_upsert = true) {
    mappings::mapping m;
    m.object_name = "Sim_Everything__c";
    m.access = mappings::access_mode::read_write;
    for (const char* f : {"Name", "External_Id__c", "Text__c", "Number__c"})
        m.fields.emplace(f, mappings::json_value::object{});
    m.fields.emplace("Account__r__External_Id__c", mappings::json_value::object{});
    if (with_upsert)
        m.upsert_field = "External_Id__c";
    std::vector<std::string> errors, warnings;
    auto r = mappings::resolve_mapping(m, test::describe_of("Sim_Everything__c"), errors, warnings);
    INFO((errors.empty() ? std::string() : errors.front()));
    REQUIRE(r);
    return *r;
}

writeback_entry entry(std::int64_t id, const std::string& action, const std::string& table,
                      std::int64_t record, const std::string& values, const std::string& sfid = "",
                      const std::string& old = "") {
    writeback_entry e;
    e.id = id;
    e.action_text = action;
    e.action = bridge::parse_action(action);
    e.table = table;
    e.record_id = record;
    e.values = values;
    e.sfid = sfid;
    e.old = old;
    e.created_at = "2026-01-01 10:00:00.000";
    return e;
}

std::vector<writeback_entry*> pointers(std::vector<writeback_entry>& es) {
    std::vector<writeback_entry*> out;
    for (auto& e : es)
        out.push_back(&e);
    return out;
}

salesforce::record_result ok(const std::string& id) {
    salesforce::record_result r;
    r.attempted = true;
    r.success = true;
    r.id = id;
    return r;
}
salesforce::record_result refused(const std::string& code) {
    salesforce::record_result r;
    r.attempted = true;
    r.errors.push_back({code, "refused: " + code, {"Name"}});
    return r;
}

} // namespace

TEST_CASE("actions parse from the trigger log's text only", "[unit][writeback]") {
    CHECK(bridge::parse_action("INSERT") == bridge::write_action::insert);
    CHECK(bridge::parse_action("UPDATE") == bridge::write_action::update);
    CHECK(bridge::parse_action("DELETE") == bridge::write_action::remove);
    CHECK_FALSE(bridge::parse_action("insert"));
    CHECK_FALSE(bridge::parse_action("TRUNCATE"));
    CHECK_FALSE(bridge::parse_action(""));
}

TEST_CASE("classify groups pending entries and fails unknown tables and actions alone",
          "[unit][writeback]") {
    const auto m = everything();
    const bridge::mapping_lookup find = [&](const std::string& t) {
        return t == m.table ? &m : nullptr;
    };
    std::vector<writeback_entry> batch{
        entry(1, "INSERT", m.table, 1, ""), entry(2, "UPDATE", m.table, 1, ""),
        entry(3, "DELETE", m.table, 2, "", "a00000000000001AAA"),
        entry(4, "INSERT", "unmapped", 3, ""), entry(5, "MERGE", m.table, 4, "")};
    batch.push_back(entry(6, "UPDATE", m.table, 5, ""));
    batch.back().outcome = result::merged; // already decided: left alone
    const auto c = bridge::classify(batch, find);
    CHECK(c.inserts.at(m.table).size() == 1);
    CHECK(c.updates.at(m.table).size() == 1);
    CHECK(c.deletes.at(m.table).size() == 1);
    CHECK(batch[3].outcome == result::failed);
    CHECK(batch[3].error_code == "SFBRIDGE_NOT_MAPPED");
    CHECK(batch[4].outcome == result::failed);
    CHECK(batch[4].error_code == "SFBRIDGE_BAD_ACTION");
    CHECK(batch[4].message.find("MERGE") != std::string::npos);
    CHECK(batch[5].outcome == result::merged);
}

TEST_CASE("an sfid that is not a record id fails its entry alone", "[unit][writeback]") {
    const auto m = everything();
    const bridge::mapping_lookup find = [&](const std::string& t) {
        return t == m.table ? &m : nullptr;
    };
    std::vector<writeback_entry> batch{
        entry(1, "DELETE", m.table, 1, "", "a00000000000001AAA,a00000000000002AAA"),
        entry(2, "UPDATE", m.table, 2, R"("name"=>"B")", "a00000000000002AAB"),
        entry(3, "DELETE", m.table, 3, "", "a00000000000003AAA")};
    const auto c = bridge::classify(batch, find);
    CHECK(batch[0].outcome == result::failed);
    CHECK(batch[0].error_code == "SFBRIDGE_BAD_SFID");
    CHECK(batch[1].outcome == result::failed); // a suffix that does not match
    REQUIRE(c.deletes.at(m.table).size() == 1);
    CHECK(c.deletes.at(m.table)[0] == &batch[2]);

    // A row whose sfid the app overwrote is not sent either.
    std::vector<writeback_entry> es{entry(4, "UPDATE", m.table, 9, R"("name"=>"X")")};
    std::map<std::int64_t, bridge::current_row> rows;
    rows[9].sfid = "not an id";
    auto plan = bridge::plan_updates(pointers(es), rows, bridge::write_algorithm::ordered);
    CHECK(plan.order.empty());
    CHECK(es[0].error_code == "SFBRIDGE_BAD_SFID");
}

TEST_CASE("insert order puts parents before children, else trigger-log order",
          "[unit][writeback]") {
    mappings::resolved_mapping parent, child, other;
    parent.object_name = "Account";
    parent.table = "account";
    child.object_name = "Sim_Everything__c";
    child.table = "sim_everything__c";
    child.references.push_back(
        {"account__r__ext__c", "Account__r", "Account__c", "Account", "Ext__c", true, true});
    other.object_name = "Lead";
    other.table = "lead";
    const bridge::mapping_lookup find =
        [&](const std::string& t) -> const mappings::resolved_mapping* {
        for (const auto* m : {&parent, &child, &other})
            if (m->table == t)
                return m;
        return nullptr;
    };
    std::vector<writeback_entry> es{entry(1, "INSERT", "sim_everything__c", 1, ""),
                                    entry(2, "INSERT", "lead", 1, ""),
                                    entry(3, "INSERT", "account", 1, "")};
    std::map<std::string, std::vector<writeback_entry*>> inserts;
    for (auto& e : es)
        inserts[e.table].push_back(&e);
    CHECK(bridge::insert_order(inserts, find) ==
          std::vector<std::string>{"lead", "account", "sim_everything__c"});
    inserts.erase("account"); // no parent in the batch: trigger-log order
    CHECK(bridge::insert_order(inserts, find) ==
          std::vector<std::string>{"sim_everything__c", "lead"});
}

TEST_CASE("record JSON writes only writable fields and references by external id",
          "[unit][writeback]") {
    const auto m = everything();
    bridge::hstore_pairs values{{"name", "N"},
                                {"text__c", std::nullopt},
                                {"sfid", "a00000000000001AAA"},
                                {"systemmodstamp", "2026-01-01 10:00:00"},
                                {"account__r__external_id__c", "ACC-1"},
                                {"unknown_col", "x"}};
    std::string json, error;
    bool any = false;
    REQUIRE(bridge::record_json(m, values, true, json, error, any));
    CHECK(any);
    CHECK(json == R"({"Account__r":{"External_Id__c":"ACC-1"},"Name":"N")");
    REQUIRE(bridge::record_json(m, values, false, json, error, any));
    CHECK(json == R"({"Account__r":{"External_Id__c":"ACC-1"},"Name":"N","Text__c":null)");
    bridge::hstore_pairs only_system{{"systemmodstamp", "2026-01-01 10:00:00"}};
    REQUIRE(bridge::record_json(m, only_system, false, json, error, any));
    CHECK_FALSE(any);
    bridge::hstore_pairs bad{{"number__c", "not a number"}};
    CHECK_FALSE(bridge::record_json(m, bad, false, json, error, any));
    CHECK(error.find("Number__c") != std::string::npos);
}

TEST_CASE("inserts with an external id become upserts, unreadable values fail alone",
          "[unit][writeback]") {
    const auto m = everything();
    std::vector<writeback_entry> es{
        entry(1, "INSERT", m.table, 1, R"("name"=>"A")"),
        entry(2, "INSERT", m.table, 2, R"("name"=>"B", "external_id__c"=>"X-2")"),
        entry(3, "INSERT", m.table, 3, "not hstore"),
        entry(4, "INSERT", m.table, 4, R"("name"=>"D", "external_id__c"=>"")")};
    const auto plan = bridge::plan_inserts(m, pointers(es));
    REQUIRE(plan.creates.size() == 2);
    REQUIRE(plan.upserts.size() == 1);
    CHECK(plan.create_owners == std::vector<writeback_entry*>{&es[0], &es[3]});
    CHECK(plan.upsert_owners == std::vector<writeback_entry*>{&es[1]});
    CHECK(plan.creates[0] == R"({"Name":"A"})");
    CHECK(plan.upserts[0] == R"({"Name":"B","External_Id__c":"X-2"})");
    CHECK(es[2].outcome == result::failed);
    CHECK(es[2].error_code == "SFBRIDGE_BAD_VALUE");
    CHECK(bridge::external_ids(m, pointers(es)) == std::vector<std::string>{"X-2"});
    CHECK(bridge::external_ids(everything(false), pointers(es)).empty());
}

TEST_CASE("ordered updates go in rounds, and a held record sends nothing more",
          "[unit][writeback]") {
    const auto m = everything();
    const std::string a = "a00000000000001AAA", b = "a00000000000002AAA";
    std::vector<writeback_entry> es{entry(1, "UPDATE", m.table, 1, R"("name"=>"A1")", a),
                                    entry(2, "UPDATE", m.table, 2, R"("name"=>"B1")", b),
                                    entry(3, "UPDATE", m.table, 1, R"("name"=>"A2")", a),
                                    entry(4, "UPDATE", m.table, 2, R"("name"=>"B2")", b),
                                    entry(5, "UPDATE", m.table, 2, R"("name"=>"B3")", b)};
    auto plan = bridge::plan_updates(pointers(es), {}, bridge::write_algorithm::ordered);
    CHECK(plan.order == std::vector<std::string>{a, b});
    auto r0 = bridge::plan_update_round(m, plan, 0, {});
    CHECK(r0.records == std::vector<std::string>{R"({"Id":")" + a + R"(","Name":"A1"})",
                                                 R"({"Id":")" + b + R"(","Name":"B1"})"});
    CHECK_FALSE(r0.last);
    // b's first write stayed pending: its later ones wait.
    auto r1 = bridge::plan_update_round(m, plan, 1, {b});
    REQUIRE(r1.owners.size() == 1);
    CHECK(r1.owners[0].second == &es[2]);
    CHECK_FALSE(r1.last); // b has a third change
    auto r2 = bridge::plan_update_round(m, plan, 2, {b});
    CHECK(r2.records.empty());
    CHECK(r2.last);
}

TEST_CASE("merged updates fold into one write per record, later values winning",
          "[unit][writeback]") {
    const auto m = everything();
    const std::string a = "a00000000000001AAA";
    std::vector<writeback_entry> es{
        entry(1, "UPDATE", m.table, 1, R"("name"=>"A1", "text__c"=>"t")", a),
        entry(2, "UPDATE", m.table, 1, R"("name"=>"A2")", a)};
    auto plan = bridge::plan_updates(pointers(es), {}, bridge::write_algorithm::merged);
    auto r0 = bridge::plan_update_round(m, plan, 0, {});
    REQUIRE(r0.records.size() == 1);
    CHECK(r0.records[0] == R"({"Id":")" + a + R"(","Name":"A2","Text__c":"t"})");
    CHECK(r0.last);
    CHECK(es[0].merged_into == &es[1]);
    CHECK(es[0].pending()); // until its write is through
    SECTION("the write went through: the earlier entry is MERGED") {
        es[1].outcome = result::success;
        bridge::settle_merged(pointers(es));
        CHECK(es[0].outcome == result::merged);
    }
    SECTION("the write was refused: the earlier entry fails with its reason") {
        es[1].fail("FIELD_CUSTOM_VALIDATION_EXCEPTION", "no");
        bridge::settle_merged(pointers(es));
        CHECK(es[0].outcome == result::failed);
        CHECK(es[0].error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION");
        CHECK(es[0].message == "merged into trigger log entry 2, which failed: no");
    }
    SECTION("the write is retried: the merged fields go again with it") {
        bridge::settle_merged(pointers(es)); // a transient failure left entry 2 pending
        CHECK(es[0].pending());
        CHECK(es[0].merged_into == nullptr);
        auto again = bridge::plan_updates(pointers(es), {}, bridge::write_algorithm::merged);
        auto r = bridge::plan_update_round(m, again, 0, {});
        REQUIRE(r.records.size() == 1);
        CHECK(r.records[0] == R"({"Id":")" + a + R"(","Name":"A2","Text__c":"t"})");
    }
}

TEST_CASE("an update without an sfid takes the row's, is ignored when the row is gone, fails "
          "when the row has none",
          "[unit][writeback]") {
    const auto m = everything();
    std::vector<writeback_entry> es{entry(1, "UPDATE", m.table, 1, R"("name"=>"A")"),
                                    entry(2, "UPDATE", m.table, 2, R"("name"=>"B")"),
                                    entry(3, "UPDATE", m.table, 3, R"("name"=>"C")")};
    std::map<std::int64_t, bridge::current_row> rows;
    rows[1].sfid = "a00000000000001AAA";
    rows[3].sfid = "";
    auto plan = bridge::plan_updates(pointers(es), rows, bridge::write_algorithm::ordered);
    CHECK(plan.order == std::vector<std::string>{"a00000000000001AAA"});
    CHECK(es[1].outcome == result::ignored);
    CHECK(es[2].outcome == result::failed);
    CHECK(es[2].error_code == "SFBRIDGE_NO_SFID");
}

TEST_CASE("conflicts go to the later change and keep the losing value", "[unit][writeback]") {
    const auto m = everything();
    const std::string a = "a00000000000001AAA";
    const std::string old = R"("name"=>"Before", "text__c"=>"t0", "number__c"=>"1")";
    // The app changed name and text; Salesforce changed name (to SF) and number since.
    std::vector<writeback_entry> es{
        entry(1, "UPDATE", m.table, 1, R"("name"=>"App", "text__c"=>"t1")", a, old)};
    bridge::current_row row;
    row.sfid = a;
    row.values = {{"name", "SF"}, {"text__c", "t0"}, {"number__c", "2"}};

    SECTION("Salesforce's change is later: its value stays, the app's other field is sent") {
        row.modstamp = "2026-01-01 10:00:05.000";
        std::map<std::int64_t, bridge::current_row> rows{{1, row}};
        auto plan = bridge::plan_updates(pointers(es), rows, bridge::write_algorithm::ordered);
        REQUIRE(plan.conflicts.size() == 1);
        const auto& k = plan.conflicts[0];
        CHECK(k.field == "name");
        CHECK(k.salesforce_won);
        CHECK(k.kept == "SF");
        CHECK(k.lost == "App");
        auto r0 = bridge::plan_update_round(m, plan, 0, {});
        REQUIRE(r0.records.size() == 1);
        CHECK(r0.records[0] == R"({"Id":")" + a + R"(","Text__c":"t1"})");
    }
    SECTION("the app's change is later: it is sent whole") {
        row.modstamp = "2026-01-01 09:59:59.000";
        std::map<std::int64_t, bridge::current_row> rows{{1, row}};
        auto plan = bridge::plan_updates(pointers(es), rows, bridge::write_algorithm::ordered);
        REQUIRE(plan.conflicts.size() == 1);
        CHECK_FALSE(plan.conflicts[0].salesforce_won);
        CHECK(plan.conflicts[0].kept == "App");
        CHECK(plan.conflicts[0].lost == "SF");
        auto r0 = bridge::plan_update_round(m, plan, 0, {});
        CHECK(r0.records[0] == R"({"Id":")" + a + R"(","Name":"App","Text__c":"t1"})");
    }
    SECTION("an update left with nothing to send is a conflict, in either algorithm") {
        es = {entry(1, "UPDATE", m.table, 1, R"("name"=>"App")", a, old)};
        row.modstamp = "2026-01-01 10:00:05.000";
        std::map<std::int64_t, bridge::current_row> rows{{1, row}};
        for (auto algo : {bridge::write_algorithm::ordered, bridge::write_algorithm::merged}) {
            es[0].outcome = result::pending;
            auto plan = bridge::plan_updates(pointers(es), rows, algo);
            CHECK(es[0].outcome == result::conflict);
            CHECK(es[0].error_code == "SFBRIDGE_CONFLICT");
            CHECK(es[0].message == bridge::conflict_message({"name"}));
            auto r0 = bridge::plan_update_round(m, plan, 0, {});
            CHECK(r0.records.empty());
            CHECK(r0.last);
        }
    }
    SECTION("the app's own earlier write back in the row is not Salesforce's change") {
        // An inbound change had put Salesforce's older name in the row (so `old` captured
        // "Before"); the app's earlier update "SF" has since reached Salesforce and come back.
        row.modstamp = "2026-01-01 10:00:05.000";
        std::map<std::int64_t, bridge::current_row> rows{{1, row}};
        CHECK(bridge::suspected_conflicts(pointers(es), rows) == std::set<std::int64_t>{1});
        rows[1].sent = {{"name", {"SF"}}, {"text__c", {"x"}}};
        auto plan = bridge::plan_updates(pointers(es), rows, bridge::write_algorithm::ordered);
        CHECK(plan.conflicts.empty());
        auto r0 = bridge::plan_update_round(m, plan, 0, {});
        REQUIRE(r0.records.size() == 1);
        CHECK(r0.records[0] == R"({"Id":")" + a + R"(","Name":"App","Text__c":"t1"})");
    }
    SECTION("the echo of a pending update sent before with its answer lost is the app's own") {
        // "SF" went to Salesforce in an attempt whose answer was lost (a crash); its echo is in
        // the row when it and the app's next edit are planned again.
        es = {entry(1, "UPDATE", m.table, 1, R"("name"=>"SF")", a, old),
              entry(2, "UPDATE", m.table, 1, R"("name"=>"App")", a, R"("name"=>"SF")")};
        row.modstamp = "2026-01-01 10:00:05.000";
        std::map<std::int64_t, bridge::current_row> rows{{1, row}};
        auto unsent = bridge::plan_updates(pointers(es), rows, bridge::write_algorithm::ordered);
        REQUIRE(unsent.conflicts.size() == 1); // never sent: "SF" is Salesforce's own value
        CHECK(unsent.conflicts[0].salesforce_won);
        for (auto& e : es)
            e.outcome = result::pending;
        es[0].unknown = true;
        auto plan = bridge::plan_updates(pointers(es), rows, bridge::write_algorithm::merged);
        CHECK(plan.conflicts.empty());
        auto r0 = bridge::plan_update_round(m, plan, 0, {});
        REQUIRE(r0.records.size() == 1);
        CHECK(r0.records[0] == R"({"Id":")" + a + R"(","Name":"App"})");
    }
    SECTION("the late echo of a value the app sent before its newest one is its own too") {
        // The app sent "SF", then "Newer"; the stream delivered the echo of "SF" only now
        // (stalled meanwhile), with a SystemModstamp after the pending edit's capture.
        row.modstamp = "2026-01-01 10:00:05.000";
        std::map<std::int64_t, bridge::current_row> rows{{1, row}};
        rows[1].sent = {{"name", {"SF", "Newer"}}};
        auto plan = bridge::plan_updates(pointers(es), rows, bridge::write_algorithm::ordered);
        CHECK(plan.conflicts.empty());
        // A value the app never sent is Salesforce's, and the later change wins.
        rows[1].sent = {{"name", {"Newer"}}};
        for (auto& e : es)
            e.outcome = result::pending;
        plan = bridge::plan_updates(pointers(es), rows, bridge::write_algorithm::ordered);
        REQUIRE(plan.conflicts.size() == 1);
        CHECK(plan.conflicts[0].salesforce_won);
    }
    SECTION("the app's write made after the batch was claimed is its own, not Salesforce's") {
        // Seed 1033: the row holds "SF" because the app wrote it after this batch was claimed
        // (its entry waits, NEW); trigger_log::sent_values counts waiting updates' values.
        row.modstamp = "2026-01-01 10:00:05.000";
        std::map<std::int64_t, bridge::current_row> rows{{1, row}};
        rows[1].sent = {{"name", {"SF"}}};
        rows[1].sent_at = {{"name", ""}}; // not sent yet: no time
        auto plan = bridge::plan_updates(pointers(es), rows, bridge::write_algorithm::ordered);
        CHECK(plan.conflicts.empty());
        REQUIRE(plan.per_record.at(a).size() == 1);
        CHECK(plan.per_record.at(a)[0].values.size() == 2); // name and text, both sent
    }
    SECTION("a row older than the app's latest applied write of the field is no newer change") {
        // A poll read Salesforce before the app's last update of the name was applied there.
        row.modstamp = "2026-01-01 10:00:05.000";
        std::map<std::int64_t, bridge::current_row> rows{{1, row}};
        rows[1].sent_at = {{"name", "2026-01-01 10:00:06.000"}};
        auto plan = bridge::plan_updates(pointers(es), rows, bridge::write_algorithm::ordered);
        CHECK(plan.conflicts.empty());
        // Applied before Salesforce's change: the change is newer, and it wins.
        rows[1].sent_at = {{"name", "2026-01-01 10:00:04.000"}};
        for (auto& e : es)
            e.outcome = result::pending;
        plan = bridge::plan_updates(pointers(es), rows, bridge::write_algorithm::ordered);
        REQUIRE(plan.conflicts.size() == 1);
        CHECK(plan.conflicts[0].salesforce_won);
    }
    SECTION("no suspect when every changed field holds the old or the app's value") {
        row.values = {{"name", "App"}, {"text__c", "t0"}};
        std::map<std::int64_t, bridge::current_row> rows{{1, row}};
        CHECK(bridge::suspected_conflicts(pointers(es), rows).empty());
    }
    SECTION("a burst of edits of one record is judged from its first edit, not each one") {
        // A -> B -> C before anything was sent: the row holds C, the first edit's old holds A.
        es = {entry(1, "UPDATE", m.table, 1, R"("name"=>"B")", a, R"("name"=>"A")"),
              entry(2, "UPDATE", m.table, 1, R"("name"=>"C")", a, R"("name"=>"B")")};
        row.values = {{"name", "C"}};
        std::map<std::int64_t, bridge::current_row> rows{{1, row}};
        CHECK(bridge::suspected_conflicts(pointers(es), rows).empty());
    }
    SECTION("without the old row there is nothing to compare") {
        es[0].old.clear();
        row.modstamp = "2026-01-01 10:00:05.000";
        std::map<std::int64_t, bridge::current_row> rows{{1, row}};
        auto plan = bridge::plan_updates(pointers(es), rows, bridge::write_algorithm::ordered);
        CHECK(plan.conflicts.empty());
    }
}

TEST_CASE("deletes go once per sfid, and those never in Salesforce succeed at once",
          "[unit][writeback]") {
    std::vector<writeback_entry> es{entry(1, "DELETE", "t", 1, "", "a00000000000001AAA"),
                                    entry(2, "DELETE", "t", 2, ""),
                                    entry(3, "DELETE", "t", 1, "", "a00000000000001AAA")};
    const auto plan = bridge::plan_deletes(pointers(es));
    CHECK(plan.ids == std::vector<std::string>{"a00000000000001AAA"});
    CHECK(plan.owners == std::vector<writeback_entry*>{&es[0]});
    CHECK(es[1].outcome == result::success);
    CHECK(es[2].outcome == result::success);
}

TEST_CASE("Salesforce results become outcomes, transient ones stay pending", "[unit][writeback]") {
    auto e = entry(1, "INSERT", "t", 1, "");
    CHECK_FALSE(bridge::apply_result(e, ok("a00000000000001AAA"), false));
    CHECK(e.outcome == result::success);
    CHECK(e.new_sfid == "a00000000000001AAA");

    auto u = entry(2, "UPDATE", "t", 1, "", "a00000000000001AAA");
    CHECK_FALSE(bridge::apply_result(u, ok("a00000000000001AAA"), false));
    CHECK(u.new_sfid.empty());

    auto locked = entry(3, "UPDATE", "t", 1, "");
    CHECK(bridge::apply_result(locked, refused("UNABLE_TO_LOCK_ROW"), false));
    CHECK(locked.pending());
    salesforce::record_result not_sent;
    CHECK(bridge::apply_result(locked, not_sent, false));
    CHECK(locked.pending());

    auto bad = entry(4, "UPDATE", "t", 1, "");
    CHECK_FALSE(bridge::apply_result(bad, refused("REQUIRED_FIELD_MISSING"), false));
    CHECK(bad.outcome == result::failed);
    CHECK(bad.error_code == "REQUIRED_FIELD_MISSING");
    CHECK(bridge::error_json(bad) ==
          R"({"op":"UPDATE","errorCode":"REQUIRED_FIELD_MISSING","message":"refused: )"
          R"(REQUIRED_FIELD_MISSING","fields":["Name"]})");

    auto gone = entry(5, "DELETE", "t", 1, "", "a00000000000001AAA");
    CHECK_FALSE(bridge::apply_result(gone, refused("ENTITY_IS_DELETED"), true));
    CHECK(gone.outcome == result::success);
}

TEST_CASE("outcomes: the log gets each entry, a row its latest entry and any new sfid",
          "[unit][writeback]") {
    std::vector<writeback_entry> es{entry(1, "INSERT", "t", 7, ""), entry(2, "UPDATE", "t", 7, ""),
                                    entry(3, "UPDATE", "t", 8, ""), entry(4, "DELETE", "t", 9, ""),
                                    entry(5, "UPDATE", "u", 1, "")};
    es[0].outcome = result::success;
    es[0].new_sfid = "a00000000000001AAA";
    es[1].outcome = result::success;
    es[2].fail("X", "no");
    es[3].outcome = result::success;
    es[4].outcome = result::conflict;
    es[4].message = bridge::conflict_message({"title", "email"});
    const auto log = bridge::trigger_log_outcomes(pointers(es));
    // A write that lost every field to Salesforce is FAILED, Heroku Connect's state for a
    // write not applied, with the reason.
    CHECK(log.states == std::vector<std::optional<std::string>>{"SUCCESS", "SUCCESS", "FAILED",
                                                                "SUCCESS", "FAILED"});
    CHECK(log.messages[2] == "no");
    CHECK(log.messages[4] == "not applied: Salesforce changed title, email after this write, and "
                             "the later change wins (the value that lost is in "
                             "_sfbridge_conflicts; change the row again to send it anew)");
    CHECK_FALSE(log.messages[0]);
    CHECK(log.sfids[0] == "a00000000000001AAA");
    es.push_back(entry(6, "INSERT", "unmapped", 1, ""));
    es.back().fail("SFBRIDGE_NOT_MAPPED", "table unmapped has no read-write mapping");
    const auto rows = bridge::mapped_row_outcomes(pointers(es));
    REQUIRE(rows.size() == 2); // no UPDATE of the unmapped table
    CHECK(rows[0].table == "t");
    CHECK(rows[0].record_ids == std::vector<std::optional<std::string>>{"7", "8"});
    CHECK(rows[0].ops == std::vector<std::optional<std::string>>{"UPDATED", "FAILED"});
    CHECK(rows[0].sfids[0] == "a00000000000001AAA"); // from the insert, under the later update
    CHECK(rows[0].errors[1]->find("\"errorCode\":\"X\"") != std::string::npos);
    CHECK(rows[1].ops == std::vector<std::optional<std::string>>{"SYNCED"});
}

TEST_CASE("outcomes: a create whose record was found deleted since takes its row with it",
          "[unit][writeback]") {
    std::vector<writeback_entry> es{entry(1, "INSERT", "t", 7, ""), entry(2, "INSERT", "t", 8, ""),
                                    entry(3, "INSERT", "u", 9, "")};
    for (auto& e : es) {
        e.outcome = result::success;
        e.new_sfid = "a00000000000001AAA";
    }
    es[1].record_deleted = true;
    es[2].record_deleted = true;
    es[2].fail("X", "no"); // a failure deletes nothing
    const auto log = bridge::trigger_log_outcomes(pointers(es));
    CHECK_FALSE(log.messages[0]);
    CHECK(log.messages[1] == std::string(bridge::deleted_since_message));
    CHECK(log.states[1] == "SUCCESS");
    const auto gone = bridge::rows_of_deleted_records(pointers(es));
    REQUIRE(gone.size() == 1);
    CHECK(gone[0].table == "t");
    CHECK(gone[0].record_ids == std::vector<std::optional<std::string>>{"8"});
}

TEST_CASE("an app change of a field never written back is not sent, and Salesforce's value wins",
          "[unit][writeback]") {
    auto m = everything();
    const std::string a = "a00000000000001AAA", b = "a00000000000002AAA";
    const std::set<std::string> read_only{"text__c"};
    std::vector<writeback_entry> es{
        // Only the read-only field: nothing to send.
        entry(1, "UPDATE", m.table, 1, R"("text__c"=>"app")", a, R"("text__c"=>"sf", "name"=>"N")"),
        // With a writable one: only that goes.
        entry(2, "UPDATE", m.table, 2, R"("name"=>"B2", "text__c"=>NULL)", b,
              R"("name"=>"B1", "text__c"=>"kept")")};
    auto plan = bridge::plan_updates(pointers(es), {}, bridge::write_algorithm::ordered, read_only);
    CHECK(es[0].outcome == result::success);
    CHECK(es[1].pending());
    CHECK(plan.order == std::vector<std::string>{b});
    auto r0 = bridge::plan_update_round(m, plan, 0, {});
    CHECK(r0.records == std::vector<std::string>{R"({"Id":")" + b + R"(","Name":"B2"})"});
    // Each a conflict Salesforce won, keeping the value the row had before.
    REQUIRE(plan.read_only.size() == 2);
    CHECK(plan.read_only[0].e == &es[0]);
    CHECK(plan.read_only[0].sfid == a);
    CHECK(plan.read_only[0].field == "text__c");
    CHECK(plan.read_only[0].salesforce_won);
    CHECK(plan.read_only[0].kept == std::optional<std::string>("sf"));
    CHECK(plan.read_only[0].lost == std::optional<std::string>("app"));
    CHECK(plan.read_only[1].kept == std::optional<std::string>("kept"));
    CHECK_FALSE(plan.read_only[1].lost.has_value());
    CHECK(plan.conflicts.empty());

    // Without read-only columns, the same changes are sent whole.
    std::vector<writeback_entry> again{entry(3, "UPDATE", m.table, 1, R"("text__c"=>"app")", a)};
    auto plain = bridge::plan_updates(pointers(again), {}, bridge::write_algorithm::ordered);
    CHECK(plain.read_only.empty());
    CHECK(bridge::plan_update_round(m, plain, 0, {}).records.size() == 1);
}
