#include "net/url.hpp"
#include "test/unit/net/parsed_url.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::net;

namespace {
const auto u = sfbridge::test::parsed_url;
} // namespace

TEST_CASE("a URL shown in a message has no credentials, query or fragment", "[unit][net]") {
    CHECK(redact_url("https://user:s3cret@login.example.com/services?token=abc") ==
          "https://***@login.example.com/services?...");
    CHECK(redact_url("https://login.salesforce.com") == "https://login.salesforce.com");
    CHECK(redact_url("https://a@b@host:8443/p#frag") == "https://***@host:8443/p?...");
    CHECK(redact_url("user:pw@host/x") == "***@host/x");
    CHECK(redact_url("not-a-url") == "not-a-url");
    CHECK(redact_url("http://host/a@b") == "http://host/a@b"); // an @ in the path is no userinfo
    CHECK(redact_url("") == "");
}

TEST_CASE("URLs are split with default ports and IPv6 hosts", "[unit][net]") {
    auto a = u("HTTPS://Na1.Salesforce.com/services/data/v60.0/query?q=SELECT+Id#frag");
    CHECK(a.scheme == "https");
    CHECK(a.host == "na1.salesforce.com");
    CHECK(a.port == 443);
    CHECK(a.target == "/services/data/v60.0/query?q=SELECT+Id");
    CHECK(a.path() == "/services/data/v60.0/query");
    CHECK(a.origin() == "https://na1.salesforce.com:443");
    auto b = u("http://[::1]:8080");
    CHECK(b.host == "::1");
    CHECK(b.port == 8080);
    CHECK(b.target == "/");
    CHECK(b.authority() == "[::1]:8080");
    std::string why;
    CHECK_FALSE(parse_url("ftp://x", &why));
    CHECK(why == "the scheme must be http or https");
    CHECK_FALSE(parse_url("https://user:pw@host/", &why));
    CHECK_FALSE(parse_url("http://host:99999/"));
    CHECK_FALSE(parse_url("/relative"));
    auto next = resolve(a, "/services/data/v60.0/query/01g-2000");
    REQUIRE(next);
    CHECK(next->host == a.host);
    CHECK(next->target == "/services/data/v60.0/query/01g-2000");
}
