#include "salesforce/collections.hpp"
#include "salesforce/rest_client.hpp"
#include "test/unit/salesforce/reference_fixture.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::salesforce;
using sfbridge::test::reference_fixture;

TEST_CASE("collection results and error bodies are read as Salesforce writes them",
          "[unit][salesforce]") {
    std::vector<record_result> out;
    REQUIRE(read_collection_results(
        R"([{"id":"001RM000003oLnnYAE","success":true,"errors":[]},
            {"success":false,"errors":[{"statusCode":"DUPLICATES_DETECTED","message":"Use one of these records?","fields":["Name"]}]}])",
        2, out));
    CHECK(out[0].success);
    CHECK(out[0].id == "001RM000003oLnnYAE");
    CHECK(out[1].errors.at(0).status_code == "DUPLICATES_DETECTED");
    CHECK(out[1].errors.at(0).fields == std::vector<std::string>{"Name"});
    CHECK_FALSE(read_collection_results("[]", 2, out));
    CHECK_FALSE(read_collection_results("{}", 0, out));

    diagnostics d;
    CHECK(read_error_body(reference_fixture("restforce__restforce__write_error_response.json"), d));
    CHECK(d.error_code == "INVALID_FIELD");
    diagnostics d2;
    CHECK(read_error_body(
        reference_fixture("restforce__restforce__composite_sobjects_error_response.json"), d2));
    CHECK(d2.error_code == "INVALID_FIELD");
    diagnostics d3;
    CHECK_FALSE(read_error_body("<html>", d3));
    CHECK_FALSE(read_error_body("[]", d3)); // found by fuzzing: read an unset object
}
