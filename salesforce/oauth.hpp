#pragma once

#include "net/http_client.hpp"
#include "salesforce/error.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

// OAuth 2.0 against Salesforce's token endpoint: username-password, JWT bearer (RS256, signed
// with OpenSSL) and refresh token. The pure parts (form bodies, the JWT, reading the answer) are
// free functions; `authenticator` does the one HTTP exchange.
namespace sfbridge::salesforce {

struct oauth_config {
    std::string login_url = "https://login.salesforce.com";
    std::string client_id;
    std::string client_secret;
    std::string username;
    std::string password;      // password followed by the security token, if the org wants one
    std::string jwt_key_pem;   // the connected app's private key: JWT bearer flow when set
    std::string jwt_audience;  // default: see jwt_audience_for
    std::string refresh_token; // refresh flow when set (and no JWT key)
};

struct access_token {
    std::string token;
    std::string instance_url;
    std::string identity_url;
    std::string refresh_token; // when the endpoint issued one
    std::int64_t issued_at_ms = 0;
};

// application/x-www-form-urlencoded escaping of one value.
[[nodiscard]] std::string form_encode(std::string_view value);
// RFC 4648 base64url without padding.
[[nodiscard]] std::string base64url(std::string_view data);

// The JWT audience: https://test.salesforce.com for test. and sandbox login hosts,
// https://login.salesforce.com for other *.salesforce.com hosts, else the login URL's origin
// (an Experience Cloud site, or a simulator).
[[nodiscard]] std::string jwt_audience_for(std::string_view login_url);

// A signed JWT bearer assertion (header {"alg":"RS256"}, claims iss, sub, aud, exp = now + 3
// minutes). nullopt with `error` when the key cannot be read or used.
[[nodiscard]] std::optional<std::string>
jwt_assertion(std::string_view client_id, std::string_view username, std::string_view audience,
              std::string_view private_key_pem, std::int64_t now_seconds, std::string& error);

// The token request body for the configured flow (never logged: it holds secrets).
[[nodiscard]] std::optional<std::string>
token_request_body(const oauth_config& c, std::int64_t now_seconds, std::string& error);

// Reads a token endpoint answer: the token on 200, else the OAuth error into diag.
[[nodiscard]] boost::system::error_code parse_token_response(unsigned status, std::string_view body,
                                                             access_token& out, diagnostics& diag);

class authenticator {
public:
    // Throws std::invalid_argument on an unusable login URL (a configuration error).
    authenticator(boost::asio::any_io_executor ex, oauth_config cfg, net::client_options http,
                  std::shared_ptr<boost::asio::ssl::context> tls);

    // Asks the token endpoint for a new access token.
    boost::asio::awaitable<boost::system::error_code> async_login(access_token& out,
                                                                  diagnostics& diag);

    [[nodiscard]] const oauth_config& config() const noexcept { return cfg_; }

private:
    boost::asio::any_io_executor ex_;
    oauth_config cfg_;
    net::url login_;
    net::client_options http_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
};

} // namespace sfbridge::salesforce
