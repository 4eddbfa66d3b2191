#include "salesforce/api_usage.hpp"
#include "salesforce/collections.hpp"
#include "salesforce/csv_reader.hpp"
#include "salesforce/oauth.hpp"
#include "salesforce/push_topics.hpp"
#include "salesforce/records.hpp"
#include "salesforce/rest_client.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace sfbridge::salesforce;

namespace {
std::vector<std::vector<std::string>> parse_csv(std::string_view text, std::size_t chunk) {
    csv_reader r;
    csv_rows rows;
    for (std::size_t i = 0; i < text.size(); i += chunk)
        REQUIRE(r.feed(text.substr(i, chunk), rows));
    REQUIRE(r.finish(rows));
    std::vector<std::vector<std::string>> out;
    for (std::size_t k = 0; k < rows.size(); ++k) {
        std::vector<std::string> row;
        for (std::size_t i = 0; i < rows.width(k); ++i)
            row.push_back((rows.quoted(k, i) ? "\"" : "") + std::string(rows.field(k, i)));
        out.push_back(row);
    }
    return out;
}

std::string reference_fixture(const std::string& name) {
    std::ifstream in(std::string(SFBRIDGE_FIXTURES_DIR) + "/salesforce/" + name);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
} // namespace

TEST_CASE("the CSV reader handles quotes commas and newlines split anywhere",
          "[unit][salesforce]") {
    const std::string text = "\"Id\",\"Name\",\"Notes\"\n"
                             "\"001\",\"Acme, Inc.\",\"line one\nline two\"\n"
                             "\"002\",\"Say \"\"hi\"\"\",\r\n"
                             "003,plain,\"\"\n";
    const std::vector<std::vector<std::string>> expected{
        {"\"Id", "\"Name", "\"Notes"},
        {"\"001", "\"Acme, Inc.", "\"line one\nline two"},
        {"\"002", "\"Say \"hi\"", ""}, // empty and unquoted: NULL
        {"003", "plain", "\""},        // quoted empty: an empty string
    };
    for (std::size_t chunk = 1; chunk <= text.size(); ++chunk) {
        INFO("chunk size " << chunk);
        CHECK(parse_csv(text, chunk) == expected);
    }
    // No newline at the end: the last row still counts.
    CHECK(parse_csv("a,b\n1,2", 3) ==
          std::vector<std::vector<std::string>>{{"a", "b"}, {"1", "2"}});

    csv_reader bad;
    csv_rows ignore;
    CHECK_FALSE(bad.feed("a,b\"c\n", ignore));
    CHECK(bad.error().find("quote") != std::string::npos);
    csv_reader after_quote;
    CHECK_FALSE(after_quote.feed("\"a\"b,c\n", ignore));
    CHECK(after_quote.error().find("after a closing quote") != std::string::npos);
    csv_reader open;
    CHECK(open.feed("\"never closed", ignore));
    CHECK_FALSE(open.finish(ignore));

    // A page's header is hidden with drop_front; rows keep their order and text.
    csv_reader page;
    csv_rows rows;
    REQUIRE(page.feed("Id,Name\r\n1,a\r\n2,\r\n", rows));
    REQUIRE(page.finish(rows));
    REQUIRE(rows.size() == 3);
    rows.drop_front(1);
    REQUIRE(rows.size() == 2);
    CHECK(rows.field(0, 0) == "1");
    CHECK(rows.field(0, 1) == "a");
    CHECK(rows.field(1, 1).empty());
    CHECK_FALSE(rows.quoted(1, 1));
    rows.clear();
    CHECK(rows.empty());
}

TEST_CASE("Sforce-Limit-Info is read and usage is kept per day", "[unit][salesforce]") {
    auto a = parse_limit_info("api-usage=18/5000");
    REQUIRE(a);
    CHECK(a->used == 18);
    CHECK(a->max == 5000);
    auto b = parse_limit_info("api-usage=25/5000; api-bursts=1/750");
    REQUIRE(b);
    CHECK(b->used == 25);
    auto c = parse_limit_info("per-app-api-usage=17/250(appName=x); api-usage=3/100");
    REQUIRE(c);
    CHECK(c->used == 3);
    CHECK_FALSE(parse_limit_info("per-app-api-usage=17/250(appName=x)"));
    CHECK_FALSE(parse_limit_info("api-usage=x/5"));

    api_usage u;
    u.set_budget("Contact", 2);
    CHECK(u.allow("Contact", 100));
    u.record_call("Contact", 100);
    u.record_call("Contact", 100);
    CHECK_FALSE(u.allow("Contact", 100));
    CHECK(u.allow("Account", 100));
    CHECK(u.allow("Contact", 101)); // a new day
    CHECK(u.calls_today("Contact", 100) == 2);
    CHECK(u.total_calls() == 2);
}

TEST_CASE("PushTopic names are hc_ prefixed deterministic and at most 25 characters",
          "[unit][salesforce]") {
    CHECK(push_topic_name("Contact") == "hc_Contact");
    CHECK(push_topic_name("Sim_Everything__c") == "hc_Sim_Everything__c");
    const auto long1 = push_topic_name("Very_Long_Custom_Object_Name__c");
    const auto long2 = push_topic_name("Very_Long_Custom_Object_Name_Two__c");
    CHECK(long1.size() == 25);
    CHECK(long2.size() == 25);
    CHECK(long1 != long2);
    CHECK(long1.rfind("hc_Very_Long_", 0) == 0);
    CHECK(push_topic_name("Very_Long_Custom_Object_Name__c") == long1);
}

TEST_CASE("a PushTopic query names Id first, each field once, within 1,300 characters",
          "[unit][salesforce]") {
    std::string error;
    const auto topic = push_topic_query("Contact", {"LastName", "Email", "id", "lastname"}, error);
    REQUIRE(topic);
    CHECK(*topic == "SELECT Id, LastName, Email FROM Contact");
    std::vector<std::string> many(200, "Some_Long_Field_Name__c");
    for (std::size_t i = 0; i < many.size(); ++i)
        many[i] += std::to_string(i);
    CHECK_FALSE(push_topic_query("Contact", many, error));
    CHECK_THAT(error, Catch::Contains("over Salesforce's 1,300"));
    CHECK_FALSE(push_topic_query("Contact; DELETE", {"LastName"}, error));
    CHECK_THAT(error, Catch::Contains("not an object API name"));
    CHECK_FALSE(push_topic_query("Contact", {"Name FROM User"}, error));
    CHECK_THAT(error, Catch::Contains("not a field API name"));
}

TEST_CASE("the PushTopic plan creates keeps updates and removes only its own topics",
          "[unit][salesforce]") {
    std::vector<topic_spec> desired{{"Contact", {"Id", "LastName"}}, {"Lead", {"Id", "Company"}}};
    std::vector<existing_topic> existing{
        {"0IF1", "hc_Contact", "SELECT Id, LastName FROM Contact", "sfbridge: x", true},
        {"0IF2", "hc_Account", "SELECT Id FROM Account", "sfbridge: x", true},
        {"0IF3", "hc_123", "SELECT Id FROM Account", "", true}, // Heroku Connect's own
        {"0IF4", "other", "SELECT Id FROM Account", "sfbridge: x", true},
    };
    std::vector<std::string> errors;
    auto plan = plan_push_topics(desired, existing, errors);
    CHECK(errors.empty());
    REQUIRE(plan.size() == 3);
    CHECK(plan[0].what == topic_action::kind::keep);
    CHECK(plan[0].id == "0IF1");
    CHECK(plan[1].what == topic_action::kind::create);
    CHECK(plan[1].query == "SELECT Id, Company FROM Lead");
    CHECK(plan[2].what == topic_action::kind::remove);
    CHECK(plan[2].id == "0IF2");

    existing[0].active = false;
    plan = plan_push_topics(desired, existing, errors);
    CHECK(plan[0].what == topic_action::kind::update);

    std::vector<topic_spec> bad{{"Contact; DROP", {"Id"}}};
    plan = plan_push_topics(bad, existing, errors);
    CHECK_FALSE(errors.empty());
}

TEST_CASE("OAuth helpers encode sign and read answers", "[unit][salesforce]") {
    CHECK(form_encode("a b+c&d=é") == "a%20b%2Bc%26d%3D%C3%A9");
    CHECK(base64url("") == "");
    CHECK(base64url("f") == "Zg");
    CHECK(base64url("fo") == "Zm8");
    CHECK(base64url("foo") == "Zm9v");
    CHECK(base64url("\xff\xfe") == "__4");
    CHECK(jwt_audience_for("https://login.salesforce.com") == "https://login.salesforce.com");
    CHECK(jwt_audience_for("https://test.salesforce.com") == "https://test.salesforce.com");
    CHECK(jwt_audience_for("https://acme.my.salesforce.com") == "https://login.salesforce.com");
    CHECK(jwt_audience_for("https://acme--dev.sandbox.my.salesforce.com") ==
          "https://test.salesforce.com");
    CHECK(jwt_audience_for("http://127.0.0.1:8080/") == "http://127.0.0.1:8080");

    access_token t;
    diagnostics d;
    auto ec = parse_token_response(
        200, reference_fixture("restforce__restforce__auth_success_response.json"), t, d);
    CHECK_FALSE(ec);
    CHECK_FALSE(t.token.empty());
    CHECK_FALSE(t.instance_url.empty());
    ec = parse_token_response(
        400, reference_fixture("restforce__restforce__auth_error_response.json"), t, d);
    CHECK(ec == errc::auth_failed);
    CHECK(d.error_code == "invalid_grant");
    ec = parse_token_response(503, "<html>down</html>", t, d);
    CHECK(ec == errc::unavailable);

    oauth_config none;
    std::string error;
    CHECK_FALSE(token_request_body(none, 0, error));
    CHECK(error.find("no credentials") != std::string::npos);
}

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
}
