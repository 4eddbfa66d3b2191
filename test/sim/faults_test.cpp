#include "test/support/sim_fixture.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

TEST_CASE("stalled requests wait until the stall is lifted", "[sim][fault]") {
    sim_fixture f;
    auto c = f.client();
    auto ctl = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        (void)co_await ctl.call(http::verb::put, "/__sim/faults", R"({"stall":true})");
        auto stalled = co_await c.call(http::verb::get, f.api("/limits"), "", {},
                                       std::chrono::milliseconds(300));
        CHECK(stalled.status == 0); // the client gave up
        asio::co_spawn(
            f.io,
            [&]() -> asio::awaitable<void> {
                co_await sleep_ms(200);
                (void)co_await ctl.call(http::verb::put, "/__sim/faults", "{}");
            },
            asio::detached);
        const auto start = std::chrono::steady_clock::now();
        auto released = co_await c.call(http::verb::get, f.api("/limits"));
        CHECK(released.status == 200);
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(150));
    }());
}

TEST_CASE("a share of requests fails, and a share of record writes", "[sim][fault]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        (void)co_await c.call(http::verb::put, "/__sim/faults", R"({"failShare":0.5})");
        int unavailable = 0;
        for (int i = 0; i < 200; ++i)
            unavailable += (co_await c.call(http::verb::get, f.api("/limits"))).status == 503;
        CHECK(unavailable > 60);
        CHECK(unavailable < 140);

        (void)co_await c.call(http::verb::put, "/__sim/faults", R"({"lockShare":0.5})");
        std::string body = R"({"records":[)";
        for (int i = 0; i < 200; ++i)
            body += std::string(i ? "," : "") + R"({"attributes":{"type":"Account"},"Name":"n"})";
        body += "]}";
        std::map<std::string, std::string> h;
        h["Content-Type"] = "application/json";
        auto r =
            co_await c.call(http::verb::post, f.api("/composite/sobjects"), body, std::move(h));
        REQUIRE(r.status == 200);
        int locked = 0;
        const auto results = parse_json(r.body);
        for (auto res : results->root.get_array())
            if (!bool(res["success"]))
                locked += str(res["errors"].at(0)["statusCode"]) == "UNABLE_TO_LOCK_ROW";
        CHECK(locked > 60);
        CHECK(locked < 140);
    }());
}

TEST_CASE("dropping every connection closes them all", "[sim][fault]") {
    sim_fixture f;
    auto a = f.client();
    auto b = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(a);
        b.token = a.token;
        (void)co_await b.call(http::verb::get, f.api("/limits"));
        auto drop = co_await a.call(http::verb::post, "/__sim/faults/drop-connections");
        CHECK(drop.status == 200);
        co_await sleep_ms(50);
        // The next request on each finds its connection closed and opens a new one.
        auto again = co_await b.call(http::verb::get, f.api("/limits"));
        CHECK(again.status == 200);
    }());
}

namespace {
// A self-signed certificate for 127.0.0.1, written to a temporary directory.
struct self_signed {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("sfsim-tls-" + std::to_string(::getpid()));
    std::string cert_pem;
    self_signed() {
        std::filesystem::create_directories(dir);
        EVP_PKEY* key = EVP_RSA_gen(2048);
        X509* x = X509_new();
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, key);
        X509_NAME* name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
        X509_set_issuer_name(x, name);
        X509_sign(x, key, EVP_sha256());
        FILE* kf = std::fopen((dir / "key.pem").c_str(), "w");
        PEM_write_PrivateKey(kf, key, nullptr, nullptr, 0, nullptr, nullptr);
        std::fclose(kf);
        FILE* cf = std::fopen((dir / "cert.pem").c_str(), "w");
        PEM_write_X509(cf, x);
        std::fclose(cf);
        BIO* b = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(b, x);
        char* data = nullptr;
        const long n = BIO_get_mem_data(b, &data);
        cert_pem.assign(data, static_cast<std::size_t>(n));
        BIO_free(b);
        X509_free(x);
        EVP_PKEY_free(key);
    }
    ~self_signed() { std::filesystem::remove_all(dir); }
};
} // namespace

TEST_CASE("sfsim serves HTTPS with a given certificate", "[sim][tls]") {
    self_signed tls;
    sim_fixture f([&](sim::simulator_config& c) {
        c.tls_cert_file = (tls.dir / "cert.pem").string();
        c.tls_key_file = (tls.dir / "key.pem").string();
    });
    CHECK(f.sim->base_url().starts_with("https://127.0.0.1:"));
    run(f.io, [&]() -> asio::awaitable<void> {
        asio::ssl::context ctx(asio::ssl::context::tls_client);
        ctx.add_certificate_authority(asio::buffer(tls.cert_pem));
        ctx.set_verify_mode(asio::ssl::verify_peer);
        asio::ssl::stream<asio::ip::tcp::socket> stream(f.io, ctx);
        co_await stream.next_layer().async_connect(
            {asio::ip::make_address("127.0.0.1"), f.sim->port()}, asio::use_awaitable);
        co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
        http::request<http::string_body> req{http::verb::get, "/services/data/", 11};
        req.set(http::field::host, "127.0.0.1");
        co_await http::async_write(stream, req, asio::use_awaitable);
        boost::beast::flat_buffer buf;
        http::response<http::string_body> res;
        co_await http::async_read(stream, buf, res, asio::use_awaitable);
        CHECK(res.result_int() == 200);
        CHECK_THAT(res.body(), Catch::Contains("/services/data/v60.0"));
    }());
    // Plain HTTP to the TLS port gets nowhere.
    auto plain = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        auto r = co_await plain.call(http::verb::get, "/services/data/", "", {},
                                     std::chrono::milliseconds(2000));
        CHECK(r.status == 0);
    }());
}
