#include "bridge/push_event.hpp"
#include "test/unit/bridge/contact_fixture.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;
using test::contact;
using test::record;

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
