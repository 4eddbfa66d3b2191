#include "net/cookie_jar.hpp"
#include "net/url.hpp"
#include "test/unit/net/parsed_url.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::net;
using clk = cookie_jar::clock;

namespace {
const auto u = sfbridge::test::parsed_url;
} // namespace

TEST_CASE("cookies follow RFC 6265 default-path and path matching", "[unit][net]") {
    CHECK(cookie_jar::default_path("") == "/");
    CHECK(cookie_jar::default_path("/cometd") == "/");
    CHECK(cookie_jar::default_path("/cometd/60.0") == "/cometd");
    CHECK(cookie_jar::default_path("/cometd/60.0/") == "/cometd/60.0");
    CHECK(cookie_jar::path_matches("/cometd/60.0", "/cometd"));
    CHECK(cookie_jar::path_matches("/cometd/60.0", "/cometd/"));
    CHECK_FALSE(cookie_jar::path_matches("/cometdx", "/cometd"));
    CHECK(cookie_jar::path_matches("/", "/"));
    CHECK(cookie_jar::domain_matches("a.salesforce.com", "salesforce.com"));
    CHECK_FALSE(cookie_jar::domain_matches("asalesforce.com", "salesforce.com"));
    CHECK_FALSE(cookie_jar::domain_matches("10.0.0.1", "0.0.1"));
}

TEST_CASE("the jar keeps Salesforce's streaming cookies for /cometd", "[unit][net]") {
    cookie_jar jar;
    const auto now = clk::now();
    const url handshake = u("https://org.my.salesforce.com/cometd/60.0");
    CHECK(jar.store(handshake,
                    "BAYEUX_BROWSER=eb4ajzqv8f0j5yiakirz4ui41ah6; Path=/cometd/; HttpOnly", now));
    CHECK(jar.store(handshake, "BrowserId=abc; Path=/; Domain=.salesforce.com; Secure", now));
    // No Path: the default path of /cometd/60.0 is /cometd, which /cometd/60.0 matches.
    CHECK(jar.store(handshake, "sfproxy-id=\"9c13\"; Max-Age=3600; HttpOnly", now));
    CHECK(jar.header_for(handshake, now) ==
          "BAYEUX_BROWSER=eb4ajzqv8f0j5yiakirz4ui41ah6; sfproxy-id=\"9c13\"; BrowserId=abc");
    // The REST API path sees only the Path=/ cookie; plain HTTP never sees Secure ones.
    CHECK(jar.header_for(u("https://org.my.salesforce.com/services/data/v60.0"), now) ==
          "BrowserId=abc");
    CHECK(jar.header_for(u("http://org.my.salesforce.com/cometd/60.0"), now) ==
          "BAYEUX_BROWSER=eb4ajzqv8f0j5yiakirz4ui41ah6; sfproxy-id=\"9c13\"");
    // Another host under the Domain gets the domain cookie only; host-only ones stay home.
    CHECK(jar.header_for(u("https://other.salesforce.com/cometd/60.0"), now) == "BrowserId=abc");
    // Expiry: Max-Age counts from receipt.
    CHECK(jar.header_for(handshake, now + std::chrono::hours(2)) ==
          "BAYEUX_BROWSER=eb4ajzqv8f0j5yiakirz4ui41ah6; BrowserId=abc");
}

TEST_CASE("cookies are replaced, deleted and refused as the RFC says", "[unit][net]") {
    cookie_jar jar;
    const auto now = clk::now();
    const url here = u("https://a.example.com/x/y");
    CHECK(jar.store(here, "k=1; Path=/", now));
    CHECK(jar.store(here, "k=2; Path=/", now));
    CHECK(jar.header_for(here, now) == "k=2");
    CHECK(jar.store(here, "k=gone; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT", now));
    CHECK(jar.header_for(here, now).empty());
    CHECK(jar.store(here, "m=1; Path=/; Max-Age=0", now));
    CHECK(jar.size() == 0);
    CHECK_FALSE(jar.store(here, "evil=1; Domain=other.com", now));
    CHECK_FALSE(jar.store(here, "tld=1; Domain=com", now));
    CHECK_FALSE(jar.store(here, "novalue", now));
    CHECK_FALSE(jar.store(here, "=x", now));
    auto date = cookie_jar::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT");
    REQUIRE(date);
    CHECK(clk::to_time_t(*date) == 1445412480);
    CHECK(cookie_jar::parse_http_date("Wednesday, 21-Oct-15 07:28:00 GMT") == date);
    CHECK_FALSE(cookie_jar::parse_http_date("someday"));
    // Found by fuzzing: a date past what the clock holds (2262) overflowed; it is held at 2200.
    CHECK(cookie_jar::parse_http_date("Sun, 06 Nov 5000 08:49:37 GMT") ==
          cookie_jar::parse_http_date("Sun, 06 Nov 2200 08:49:37 GMT"));
}
