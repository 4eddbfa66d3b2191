#include "sim/auth.hpp"
#include "test/support/sim_fixture.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {

// An RSA key pair made for the test, and JWTs signed with it.
struct rsa_key {
    EVP_PKEY* key = EVP_RSA_gen(2048);
    ~rsa_key() { EVP_PKEY_free(key); }
    std::string public_pem() const {
        BIO* b = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(b, key);
        char* data = nullptr;
        const long n = BIO_get_mem_data(b, &data);
        std::string s(data, static_cast<std::size_t>(n));
        BIO_free(b);
        return s;
    }
    std::string sign(const std::string& claims_json) const {
        const std::string input =
            sim::base64url_encode(R"({"alg":"RS256"})") + "." + sim::base64url_encode(claims_json);
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        std::size_t len = 0;
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size());
        std::string sig(len, '\0');
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size());
        EVP_MD_CTX_free(ctx);
        sig.resize(len);
        return input + "." + sim::base64url_encode(sig);
    }
};

std::string claims(const std::string& iss, const std::string& sub, const std::string& aud,
                   long long exp) {
    return R"({"iss":")" + iss + R"(","sub":")" + sub + R"(","aud":")" + aud + R"(","exp":)" +
           std::to_string(exp) + "}";
}

long long now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

const std::map<std::string, std::string> form = {
    {"Content-Type", "application/x-www-form-urlencoded"}};

} // namespace

TEST_CASE("the password grant answers as Salesforce does", "[sim][oauth]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        auto ok = co_await c.call(http::verb::post, "/services/oauth2/token",
                                  "grant_type=password&client_id=sfsim-client-id&client_secret="
                                  "sfsim-client-secret&username=integration%40sfsim.test&"
                                  "password=sfsim-password",
                                  form);
        REQUIRE(ok.status == 200);
        auto d = parse_json(ok.body);
        const std::string token = str(d->root["access_token"]);
        CHECK(token.find('!') == 15); // <orgId>!<opaque>
        CHECK(str(d->root["instance_url"]) == f.sim->base_url());
        CHECK(str(d->root["token_type"]) == "Bearer");
        CHECK(str(d->root["issued_at"]).size() == 13); // epoch milliseconds
        CHECK(str(d->root["id"]).starts_with("https://login.salesforce.com/id/00D"));
        CHECK_FALSE(str(d->root["signature"]).empty());
        CHECK(d->root["refresh_token"].error()); // the password flow issues none

        struct bad {
            std::string body, error, description;
        };
        for (const auto& b : std::vector<bad>{
                 {"grant_type=password&client_id=nope&client_secret=sfsim-client-secret&username="
                  "integration%40sfsim.test&password=sfsim-password",
                  "invalid_client_id", "client identifier invalid"},
                 {"grant_type=password&client_id=sfsim-client-id&client_secret=nope&username="
                  "integration%40sfsim.test&password=sfsim-password",
                  "invalid_client", "invalid client credentials"},
                 {"grant_type=password&client_id=sfsim-client-id&client_secret=sfsim-client-secret&"
                  "username=integration%40sfsim.test&password=wrong",
                  "invalid_grant", "authentication failure"},
                 {"client_id=sfsim-client-id", "invalid_request", "grant type is missing"},
                 {"grant_type=implicit", "unsupported_grant_type", "grant type not supported"}}) {
            INFO(b.body);
            auto r = co_await c.call(http::verb::post, "/services/oauth2/token", b.body, form);
            CHECK(r.status == 400);
            auto e = parse_json(r.body);
            CHECK(str(e->root["error"]) == b.error);
            CHECK(str(e->root["error_description"]) == b.description);
        }
    }());
}

TEST_CASE("access tokens expire and refresh tokens renew them", "[sim][oauth]") {
    sim_fixture f(
        [](sim::simulator_config& c) { c.auth.token_lifetime = std::chrono::milliseconds(300); });
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        auto ok = co_await c.call(http::verb::get, f.api("/limits"));
        CHECK(ok.status == 200);
        co_await sleep_ms(400);
        auto expired = co_await c.call(http::verb::get, f.api("/limits"));
        CHECK(expired.status == 401);
        CHECK(expired.body ==
              R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])");

        auto mint = co_await c.call(http::verb::post, "/__sim/oauth/refresh-token");
        const std::string refresh = str(parse_json(mint.body)->root["refresh_token"]);
        auto renewed = co_await c.call(http::verb::post, "/services/oauth2/token",
                                       "grant_type=refresh_token&client_id=sfsim-client-id&"
                                       "refresh_token=" +
                                           refresh,
                                       form);
        REQUIRE(renewed.status == 200);
        c.token = str(parse_json(renewed.body)->root["access_token"]);
        auto again = co_await c.call(http::verb::get, f.api("/limits"));
        CHECK(again.status == 200);

        auto bad = co_await c.call(http::verb::post, "/services/oauth2/token",
                                   "grant_type=refresh_token&client_id=sfsim-client-id&"
                                   "refresh_token=made-up",
                                   form);
        CHECK(bad.status == 400);
        CHECK(str(parse_json(bad.body)->root["error_description"]) ==
              "expired access/refresh token");
    }());
}

TEST_CASE("the expire-tokens fault ends every session at once", "[sim][oauth][fault]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        auto r = co_await c.call(http::verb::post, "/__sim/faults/expire-tokens");
        CHECK(r.status == 200);
        auto after = co_await c.call(http::verb::get, f.api("/sobjects"));
        CHECK(after.status == 401);
        CHECK_THAT(after.body, Catch::Contains("INVALID_SESSION_ID"));
    }());
}

TEST_CASE("the JWT bearer grant checks signature and claims", "[sim][oauth]") {
    rsa_key right, wrong;
    sim_fixture f(
        [&](sim::simulator_config& c) { c.auth.jwt_public_key_pem = right.public_pem(); });
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        auto grant = [&](const std::string& jwt) {
            return c.call(http::verb::post, "/services/oauth2/token",
                          "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&"
                          "assertion=" +
                              jwt,
                          form);
        };
        const std::string aud = "https://login.salesforce.com";
        auto ok = co_await grant(
            right.sign(claims("sfsim-client-id", "integration@sfsim.test", aud, now_s() + 180)));
        REQUIRE(ok.status == 200);
        auto d = parse_json(ok.body);
        CHECK_FALSE(str(d->root["access_token"]).empty());
        CHECK(d->root["refresh_token"].error());

        struct bad {
            std::string jwt, description;
        };
        for (const auto& b : std::vector<bad>{
                 {wrong.sign(
                      claims("sfsim-client-id", "integration@sfsim.test", aud, now_s() + 180)),
                  "invalid assertion: signature verification failed"},
                 {right.sign(
                      claims("sfsim-client-id", "integration@sfsim.test", aud, now_s() - 600)),
                  "expired authorization code"},
                 {right.sign(claims("sfsim-client-id", "integration@sfsim.test",
                                    "https://example.com", now_s() + 180)),
                  "audience is invalid"},
                 {right.sign(claims("sfsim-client-id", "someone@else.test", aud, now_s() + 180)),
                  "user hasn't approved this consumer"},
                 {"not.a.jwt", "invalid assertion"}}) {
            INFO(b.description);
            auto r = co_await grant(b.jwt);
            CHECK(r.status == 400);
            CHECK(str(parse_json(r.body)->root["error_description"]) == b.description);
        }
        auto wrong_client = co_await grant(
            right.sign(claims("other-app", "integration@sfsim.test", aud, now_s() + 180)));
        CHECK(str(parse_json(wrong_client.body)->root["error"]) == "invalid_client_id");
    }());
}
