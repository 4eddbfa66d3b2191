#include "salesforce/records.hpp"
#include "salesforce/rest_client.hpp"
#include "test/unit/salesforce/reference_fixture.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::salesforce;
using sfbridge::test::reference_fixture;

TEST_CASE("query pages and records flatten into typed values", "[unit][salesforce]") {
    record_reader r;
    query_page page;
    std::string error;
    REQUIRE(r.read_page(
        reference_fixture("restforce__restforce__query_paginated_first_page_response.json"), page,
        error));
    CHECK_FALSE(page.done);
    CHECK_FALSE(page.next_records_url.empty());
    REQUIRE(r.read_page(R"({"totalSize":2,"done":true,"records":[
        {"attributes":{"type":"Contact","url":"/x"},"Id":"003A","Amount":12.50,"Active":true,
         "Note":"say \"hi\"","Owner":{"attributes":{"type":"User"},"Name":"Bo"},"Gone":null},
        {"attributes":{"type":"Contact"},"Id":"003B","Amount":-1e3,"Active":false}]})",
                        page, error));
    CHECK(page.done);
    CHECK(page.total_size == 2);
    REQUIRE(page.records.size() == 2);
    const auto& a = page.records[0];
    CHECK(a.type == "Contact");
    CHECK(a.fields.size() == 5); // Owner (a relationship object) is skipped
    CHECK(a.get("amount")->raw == "12.50");
    CHECK(a.get("Amount")->kind == sfbridge::sf_value_kind::json_number);
    CHECK(a.get("Active")->raw == "true");
    CHECK(a.get("Note")->raw == "say \"hi\"");
    CHECK(a.get("Gone")->kind == sfbridge::sf_value_kind::json_null);
    CHECK(page.records[1].get("Amount")->raw == "-1e3");

    CHECK_FALSE(r.read_page("[1]", page, error));
    CHECK_FALSE(r.read_page(R"({"done":false,"records":[]})", page, error));
    CHECK(error.find("nextRecordsUrl") != std::string::npos);
    CHECK_FALSE(r.read_page("{\"records\":[1]}", page, error));
}
