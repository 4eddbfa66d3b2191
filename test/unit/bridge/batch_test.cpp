#include "bridge/change_batch.hpp"
#include "bridge/load_batch.hpp"
#include "bridge/merge_sql.hpp"
#include "bridge/push_event.hpp"
#include "test/support/describes.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;

namespace {
mappings::resolved_mapping contact() {
    mappings::mapping m;
    m.object_name = "Contact";
    m.fields.emplace("LastName", mappings::json_value::object{});
    std::vector<std::string> errors, warnings;
    auto r = mappings::resolve_mapping(m, test::describe_of("Contact"), errors, warnings);
    REQUIRE(r);
    return *r;
}

salesforce::flat_record record(const std::string& id, const std::string& name,
                               const std::string& stamp) {
    salesforce::flat_record r;
    r.fields.push_back({"Id", mappings::sf_value_kind::json_string, id});
    r.fields.push_back({"LastName", mappings::sf_value_kind::json_string, name});
    r.fields.push_back({"SystemModstamp", mappings::sf_value_kind::json_string, stamp});
    r.fields.push_back({"IsDeleted", mappings::sf_value_kind::json_bool, "false"});
    return r;
}
} // namespace

TEST_CASE("a change batch keeps the newest version of each record", "[unit][bridge]") {
    const auto m = contact();
    bridge::change_batch b(m);
    std::string error;
    REQUIRE(b.add_record(record("003A", "Old", "2024-01-31T10:00:00.000+0000"), error));
    REQUIRE(b.add_record(record("003A", "New", "2024-01-31T10:00:01.000+0000"), error));
    REQUIRE(b.add_record(record("003A", "Stale", "2024-01-31T09:59:59.000Z"), error));
    REQUIRE(b.add_record(record("003B", "B", "2024-01-31T10:00:00.000Z"), error));
    b.add_delete("003B", "2024-01-31 10:00:00.000"); // same millisecond: the later change wins
    CHECK(b.size() == 2);
    CHECK(b.upserts() == 1);
    CHECK(b.deletes() == 1);
    CHECK(b.newest_modstamp() == "2024-01-31 10:00:01.000");
    std::string copy;
    b.copy_text(copy);
    // _op, then Id (sfid), IsDeleted, LastName, SystemModstamp in the mapping's column order.
    CHECK(copy == "u\t003A\tf\tNew\t2024-01-31 10:00:01.000\n"
                  "d\t003B\t\\N\t\\N\t2024-01-31 10:00:00.000\n");

    // A record read after it was deleted is a delete, not a row to write.
    auto gone = record("003D", "D", "2024-01-31T10:00:02.000Z");
    gone.fields.back().raw = "true"; // IsDeleted
    REQUIRE(b.add_record(gone, error));
    CHECK(b.deletes() == 2);
    CHECK(b.size() == 3);

    CHECK_FALSE(b.add_record(record("003C", "C", "not a date"), error));
    CHECK(error.find("SystemModstamp") != std::string::npos);
    salesforce::flat_record no_id;
    CHECK_FALSE(b.add_record(no_id, error));
    CHECK(error.find("no Id") != std::string::npos);
}

TEST_CASE("a load batch turns Bulk CSV rows and records into the table's COPY text",
          "[unit][bridge]") {
    const auto m = contact(); // sfid, isdeleted, lastname, systemmodstamp
    // A results page as Salesforce writes it: header first, every value quoted, NULL empty.
    const std::string page =
        "\"SystemModstamp\",\"Id\",\"LastName\",\"IsDeleted\",\"Unmapped\"\n"
        "\"2024-01-31T10:00:00.000Z\",\"003A\",\"Tab\there \\ \"\"q\"\"\",\"false\",\"x\"\n"
        "\"2024-01-31T10:00:01.000+0100\",\"003B\",,\"false\",\n"
        "\"2024-01-31T10:00:02.000Z\",\"003C\",\"Gone\",\"true\",\n"
        "\"not a date\",\"003D\",\"Bad\",\"false\",\n"
        "\"2024-01-31T10:00:03.000Z\",,\"No id\",\"false\",\n";
    salesforce::csv_reader reader;
    salesforce::csv_rows rows;
    REQUIRE(reader.feed(page, rows));
    REQUIRE(reader.finish(rows));
    const std::vector<std::string> header{"SystemModstamp", "Id", "LastName", "IsDeleted",
                                          "Unmapped"};
    rows.drop_front(1);
    REQUIRE(rows.size() == 5);

    bridge::load_batch b(m);
    bridge::change_batch merged(m); // the merge path reads the same rows the same way
    std::string error;
    for (std::size_t r = 0; r < 3; ++r) {
        REQUIRE(b.add_csv_row(header, rows, r, error));
        REQUIRE(merged.add_csv_row(header, rows, r, error));
    }
    // The mapped columns, then _hc_lastop.
    const std::string expected = "003A\tf\tTab\\there \\\\ \"q\"\t2024-01-31 10:00:00.000\tSYNCED\n"
                                 "003B\tf\t\\N\t2024-01-31 09:00:01.000\tSYNCED\n";
    CHECK(b.copy_text() == expected); // the deleted 003C is not a row
    CHECK(b.size() == 3);
    std::string merge_copy;
    merged.copy_text(merge_copy);
    CHECK(merge_copy == "u\t003A\tf\tTab\\there \\\\ \"q\"\t2024-01-31 10:00:00.000\n"
                        "u\t003B\tf\t\\N\t2024-01-31 09:00:01.000\n"
                        "d\t003C\t\\N\t\\N\t2024-01-31 10:00:02.000\n");

    // A row that does not fit is refused by field, and leaves the batch as it was.
    CHECK_FALSE(b.add_csv_row(header, rows, 3, error));
    CHECK(error.find("SystemModstamp") != std::string::npos);
    CHECK_FALSE(b.add_csv_row(header, rows, 4, error));
    CHECK(error.find("no Id") != std::string::npos);
    CHECK(b.copy_text() == expected);
    CHECK(b.size() == 3);

    // REST records take the same way in.
    bridge::load_batch from_rest(m);
    REQUIRE(from_rest.add_record(record("003E", "E", "2024-01-31T10:00:04.000+0000"), error));
    CHECK(from_rest.copy_text() == "003E\tf\tE\t2024-01-31 10:00:04.000\tSYNCED\n");
    CHECK_FALSE(from_rest.add_record(salesforce::flat_record{}, error));
    from_rest.clear();
    CHECK(from_rest.empty());
    CHECK(from_rest.copy_text().empty());
}

TEST_CASE("the merge SQL enforces the SystemModstamp rule", "[unit][bridge]") {
    const auto m = contact();
    const std::string sql = bridge::merge_sql::merge("salesforce", m);
    CHECK(sql.find("ON CONFLICT (sfid) DO UPDATE") != std::string::npos);
    CHECK(sql.find("\"contact\".systemmodstamp <= EXCLUDED.systemmodstamp") != std::string::npos);
    CHECK(sql.find("d.systemmodstamp > s.systemmodstamp") != std::string::npos);
    CHECK(bridge::merge_sql::copy_into_stage(m) ==
          "COPY \"_sfbridge_stage_contact\" (_op, \"sfid\", \"isdeleted\", \"lastname\", "
          "\"systemmodstamp\") FROM STDIN");
}

TEST_CASE("a small batch merges in one statement over a VALUES list", "[unit][bridge]") {
    const auto m = contact(); // four columns
    const std::string sql = bridge::merge_sql::merge_values("salesforce", m, 2);
    CHECK(sql.starts_with("WITH _src (_op, \"sfid\", \"isdeleted\", \"lastname\", "
                          "\"systemmodstamp\") AS (VALUES ($1::\"char\", $2::"));
    CHECK(sql.find("($6::\"char\"") != std::string::npos); // the second row
    CHECK(sql.find("$10::") != std::string::npos);
    CHECK(sql.find("$11") == std::string::npos);
    // The same rule as the staged merge, each part a CTE.
    CHECK(sql.find("_upsert AS (INSERT INTO \"salesforce\".\"contact\"") != std::string::npos);
    CHECK(sql.find("\"contact\".systemmodstamp <= EXCLUDED.systemmodstamp") != std::string::npos);
    CHECK(sql.find("_remove AS (DELETE FROM") != std::string::npos);
    CHECK(sql.find("_tomb AS (INSERT INTO \"salesforce\"._sfbridge_deleted") != std::string::npos);
    CHECK(sql.find("_sfbridge_stage_") == std::string::npos);
}

TEST_CASE("PushTopic events are read and malformed ones refused with a reason", "[unit][bridge]") {
    bridge::push_event_reader r;
    bridge::push_event e;
    std::string error;
    REQUIRE(r.read(
        R"({"event":{"createdDate":"2024-01-31T10:00:00.000Z","replayId":42,"type":"updated"},
                      "sobject":{"Id":"003A","LastName":"X","Amount__c":1.5}})",
        e, error));
    CHECK(e.type == "updated");
    CHECK(e.replay_id == 42);
    CHECK(e.created_date == "2024-01-31T10:00:00.000Z");
    CHECK(e.sobject.get("LastName")->raw == "X");
    for (const char* bad :
         {"", "[]", R"({"event":{}})", R"({"event":{"type":"exploded"},"sobject":{"Id":"1"}})",
          R"({"event":{"type":"created"},"sobject":{"Name":"no id"}})",
          R"({"event":{"type":"created"},"sobject":[1,2]})", "{\"event\":"}) {
        INFO(bad);
        CHECK_FALSE(r.read(bad, e, error));
        CHECK_FALSE(error.empty());
    }
}

TEST_CASE("Change Data Capture events are read, creates as whole records", "[unit][bridge]") {
    bridge::push_event_reader r;
    bridge::push_event e;
    std::string error;
    // The shape of Salesforce's documented example (salesforce-protocol.md 1.12).
    REQUIRE(r.read(
        R"({"schema":"IeRuaY6cbI_HsV8Rv1Mc5g","payload":{"ChangeEventHeader":{
              "entityName":"Account","recordIds":["001D000000KnaXjIAJ"],"changeType":"CREATE",
              "changeOrigin":"com.salesforce.core","transactionKey":"001b7375","sequenceNumber":1,
              "isTransactionEnd":true,"commitTimestamp":1501010206653,"commitNumber":92847272780,
              "commitUser":"005D0000001cSZs"},
            "Name":"Acme","Description":"Everyone is talking about the cloud."},
          "event":{"replayId":6421}})",
        e, error));
    CHECK(e.change_event);
    CHECK(e.type == "created");
    CHECK(e.replay_id == 6421);
    CHECK(e.record_ids == std::vector<std::string>{"001D000000KnaXjIAJ"});
    CHECK(e.created_date == "2017-07-25T19:16:46.653Z");
    CHECK(e.sobject.get("Name")->raw == "Acme");
    CHECK(e.sobject.get("Id")->raw == "001D000000KnaXjIAJ");
    CHECK(e.sobject.get("SystemModstamp")->raw == "2017-07-25T19:16:46.653Z");
    CHECK(e.sobject.get("IsDeleted")->raw == "false");
    CHECK(e.sobject.get("ChangeEventHeader") == nullptr);

    REQUIRE(r.read(R"({"payload":{"ChangeEventHeader":{"changeType":"UPDATE",
                       "recordIds":["001A","001B"],"commitTimestamp":1,"changedFields":["Name"]},
                       "Name":"Both"},"event":{"replayId":7}})",
                   e, error));
    CHECK(e.type == "updated");
    CHECK(e.record_ids.size() == 2);
    CHECK(e.sobject.fields.empty()); // partial: the engine fetches the records
    REQUIRE(r.read(R"({"payload":{"ChangeEventHeader":{"changeType":"GAP_OVERFLOW",
                       "recordIds":[],"commitTimestamp":1}},"event":{"replayId":8}})",
                   e, error));
    CHECK(e.type == "gap");
    CHECK(e.overflow);
    for (const char* bad :
         {R"({"payload":{},"event":{"replayId":1}})",
          R"({"payload":{"ChangeEventHeader":{"changeType":"EXPLODE","recordIds":["1"],
              "commitTimestamp":1}},"event":{"replayId":1}})",
          R"({"payload":{"ChangeEventHeader":{"changeType":"DELETE","recordIds":[],
              "commitTimestamp":1}},"event":{"replayId":1}})",
          R"({"payload":{"ChangeEventHeader":{"changeType":"DELETE","recordIds":[5],
              "commitTimestamp":1}},"event":{"replayId":1}})",
          R"({"payload":{"ChangeEventHeader":{"changeType":"DELETE","recordIds":["1"],
              "commitTimestamp":1}}})"}) {
        INFO(bad);
        CHECK_FALSE(r.read(bad, e, error));
        CHECK_FALSE(error.empty());
    }
}
