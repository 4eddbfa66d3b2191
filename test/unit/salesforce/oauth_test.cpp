#include "salesforce/oauth.hpp"
#include "test/unit/salesforce/reference_fixture.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::salesforce;
using sfbridge::test::reference_fixture;

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
