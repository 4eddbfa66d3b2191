#include "salesforce/oauth.hpp"

#include "core/json_writer.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include <chrono>
#include <memory>
#include <stdexcept>

namespace sfbridge::salesforce {

std::string form_encode(std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size() + 8);
    for (unsigned char c : value) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string base64url(std::string_view data) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(data[k]); };
    for (; i + 2 < data.size(); i += 3) {
        const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (i + 1 == data.size()) {
        const unsigned v = byte(i) << 16;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
    } else if (i + 2 == data.size()) {
        const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
    }
    return out;
}

std::string jwt_audience_for(std::string_view login_url) {
    auto u = net::parse_url(login_url);
    if (!u)
        return std::string(login_url);
    const std::string& h = u->host;
    auto ends_with = [&](std::string_view suffix) {
        return h.size() >= suffix.size() &&
               h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (h == "test.salesforce.com" || ends_with(".sandbox.my.salesforce.com"))
        return "https://test.salesforce.com";
    if (h == "salesforce.com" || ends_with(".salesforce.com"))
        return "https://login.salesforce.com";
    return u->origin();
}

std::optional<std::string> jwt_assertion(std::string_view client_id, std::string_view username,
                                         std::string_view audience,
                                         std::string_view private_key_pem, std::int64_t now_seconds,
                                         std::string& error) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())),
        &BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr,
        &EVP_PKEY_free);
    if (!key) {
        error = "the JWT key is not a PEM private key";
        return std::nullopt;
    }
    if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
        error = "the JWT key is not an RSA key (Salesforce accepts RS256 only)";
        return std::nullopt;
    }
    std::string claims;
    json::writer w(claims);
    w.begin_object();
    w.member("iss", client_id);
    w.member("sub", username);
    w.member("aud", audience);
    w.member("exp", now_seconds + 180);
    w.end_object();
    const std::string signing_input = base64url(R"({"alg":"RS256"})") + "." + base64url(claims);

    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::size_t sig_len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &sig_len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
        error = "signing the JWT failed";
        return std::nullopt;
    }
    std::string sig(sig_len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
        error = "signing the JWT failed";
        return std::nullopt;
    }
    sig.resize(sig_len);
    return signing_input + "." + base64url(sig);
}

std::optional<std::string> token_request_body(const oauth_config& c, std::int64_t now_seconds,
                                              std::string& error) {
    if (!c.jwt_key_pem.empty()) {
        const std::string aud =
            c.jwt_audience.empty() ? jwt_audience_for(c.login_url) : c.jwt_audience;
        auto jwt = jwt_assertion(c.client_id, c.username, aud, c.jwt_key_pem, now_seconds, error);
        if (!jwt)
            return std::nullopt;
        return "grant_type=" + form_encode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
               "&assertion=" + *jwt;
    }
    if (!c.refresh_token.empty()) {
        std::string body = "grant_type=refresh_token&client_id=" + form_encode(c.client_id) +
                           "&refresh_token=" + form_encode(c.refresh_token);
        if (!c.client_secret.empty())
            body += "&client_secret=" + form_encode(c.client_secret);
        return body;
    }
    if (c.username.empty() || c.password.empty()) {
        error = "no credentials: set a username and password, a JWT key, or a refresh token";
        return std::nullopt;
    }
    return "grant_type=password&client_id=" + form_encode(c.client_id) +
           "&client_secret=" + form_encode(c.client_secret) +
           "&username=" + form_encode(c.username) + "&password=" + form_encode(c.password);
}

authenticator::authenticator(boost::asio::any_io_executor ex, oauth_config cfg,
                             net::client_options http,
                             std::shared_ptr<boost::asio::ssl::context> tls)
    : ex_(std::move(ex)), cfg_(std::move(cfg)), http_(std::move(http)), tls_(std::move(tls)) {
    std::string error;
    auto u = net::parse_url(cfg_.login_url, &error);
    if (!u)
        throw std::invalid_argument("the Salesforce login URL " + net::redact_url(cfg_.login_url) +
                                    " is not usable: " + error);
    login_ = *u;
}

boost::asio::awaitable<boost::system::error_code> authenticator::async_login(access_token& out,
                                                                             diagnostics& diag) {
    diag.clear();
    std::string error;
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    auto body = token_request_body(cfg_, now, error);
    if (!body) {
        diag.client_message = error;
        co_return errc::auth_failed;
    }
    net::http_connection conn(ex_, login_, http_, tls_);
    net::header_list headers;
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    headers.emplace_back("Accept", "application/json");
    net::http_response resp;
    net::diagnostics ndiag;
    const auto ec = co_await conn.async_request(net::http::verb::post, "/services/oauth2/token",
                                                std::move(*body), headers, resp, ndiag,
                                                std::chrono::seconds(30));
    if (ec) {
        diag.client_message = "login at " + login_.origin() + ": " + ndiag.summary();
        co_return ec;
    }
    co_return parse_token_response(resp.status, resp.body, out, diag);
}

} // namespace sfbridge::salesforce
