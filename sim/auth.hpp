#pragma once

#include "sim/http_util.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

// OAuth 2.0 as Salesforce's token endpoint answers it: username-password, refresh token and
// JWT bearer (RS256, verified against the connected app's certificate) grants, access tokens
// that expire, and the error bodies of the reference.
namespace sfbridge::sim {

struct auth_config {
    std::string client_id = "sfsim-client-id";
    std::string client_secret = "sfsim-client-secret";
    std::string username = "integration@sfsim.test";
    // Salesforce's password grant takes the password followed by the user's security token.
    std::string password = "sfsim-password";
    std::string security_token;
    // PEM certificate or public key of the connected app, for the JWT bearer grant.
    std::string jwt_public_key_pem;
    std::chrono::milliseconds token_lifetime = std::chrono::hours(2);
};

class auth {
public:
    using clock_ms = std::function<std::int64_t()>;
    auth(auth_config cfg, std::string org_id, std::string user_id, clock_ms now);
    ~auth();
    auth(const auth&) = delete;
    auth& operator=(const auth&) = delete;

    // POST /services/oauth2/token; `instance_url` is the simulator's own base URL.
    [[nodiscard]] response token_endpoint(const request& req, const std::string& instance_url);

    enum class check { valid, missing, invalid };
    [[nodiscard]] check verify(std::string_view token);

    // A refresh token as the web-server flow would have issued it (Salesforce's password grant
    // issues none); for tests of the refresh flow.
    [[nodiscard]] std::string mint_refresh_token();
    // Issues an access token directly, for the control API and tests.
    [[nodiscard]] std::string mint_access_token();
    // Every access token stops working at once (refresh tokens stay valid).
    void expire_all_access_tokens();
    [[nodiscard]] const auth_config& config() const noexcept { return cfg_; }

private:
    response grant_password(const std::map<std::string, std::string>& form, const std::string& url);
    response grant_refresh(const std::map<std::string, std::string>& form, const std::string& url);
    response grant_jwt(const std::map<std::string, std::string>& form, const std::string& url);
    response success(const std::string& instance_url, bool with_refresh_token);
    std::string random_token(std::size_t n);

    auth_config cfg_;
    std::string org_id_;
    std::string user_id_;
    clock_ms now_;
    std::unordered_map<std::string, std::int64_t> access_tokens_; // token -> expiry (ms)
    std::unordered_map<std::string, bool> refresh_tokens_;
    std::uint64_t counter_ = 0;
    struct key;
    std::unique_ptr<key> jwt_key_;
};

// Helpers the tests use to make JWTs, exposed so they need no second implementation.
[[nodiscard]] std::string base64url_encode(std::string_view data);
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view data);

} // namespace sfbridge::sim
