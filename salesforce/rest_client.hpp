#pragma once

#include "net/http_client.hpp"
#include "salesforce/api_usage.hpp"
#include "salesforce/error.hpp"
#include "salesforce/oauth.hpp"
#include "salesforce/records.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

// The REST API of one org: a token shared by every request, a small pool of keep-alive
// connections to the instance (several calls may be in flight), and the policies every call
// goes through:
//  - 401 INVALID_SESSION_ID: one token refresh, shared by all requests that saw the old token,
//    then the request is sent once more;
//  - transient failures (5xx, lost connections, UNABLE_TO_LOCK_ROW) are retried with capped,
//    jittered exponential backoff; a POST is only resent when it certainly did not arrive (a
//    refused connection) or Salesforce said 503, so a create is never applied twice;
//  - 403 REQUEST_LIMIT_EXCEEDED starts a backoff during which calls fail at once, without
//    spending more of the org's allowance;
//  - Sforce-Limit-Info is recorded, and each call counts against its mapping's daily budget.
// Errors come back as values: the error_code says what kind, diagnostics carry Salesforce's
// errorCode and message.
namespace sfbridge::salesforce {

struct rest_config {
    oauth_config auth;
    std::string api_version = "60.0";
    net::client_options http;
    std::size_t max_connections = 4;
    int max_attempts = 6;
    std::chrono::milliseconds backoff_initial{200};
    std::chrono::milliseconds backoff_max{10000};
    std::chrono::milliseconds limit_backoff_initial{30000};
    std::chrono::milliseconds limit_backoff_max{std::chrono::minutes(15)};
    std::chrono::milliseconds request_timeout{std::chrono::minutes(2)};
};

struct call_options {
    std::string tag; // the mapping the call is for (its daily budget)
    std::string accept = "application/json";
    std::string content_type = "application/json";
    net::header_list headers;       // more request headers
    std::optional<bool> idempotent; // default: every method but POST
};

// The default options, as a named object: GCC 12 miscompiles a braced default argument ({})
// of a coroutine (the temporary is freed twice), so coroutines take this instead.
[[nodiscard]] const call_options& default_call_options() noexcept;

struct rest_response {
    unsigned status = 0;
    std::string body;
    boost::beast::http::fields headers;
};

class rest_client {
public:
    // Throws std::invalid_argument on an unusable login URL or CA file (configuration errors).
    rest_client(boost::asio::any_io_executor ex, rest_config cfg);
    ~rest_client();
    rest_client(const rest_client&) = delete;
    rest_client& operator=(const rest_client&) = delete;

    // Logs in. errc::auth_failed means the credentials are wrong (not worth retrying).
    boost::asio::awaitable<boost::system::error_code> async_login(diagnostics& diag);

    // One API call. `target` is a path on the instance ("/services/data/v60.0/limits"); a
    // non-2xx answer is an error, except the ones the caller handles (2xx and 300 come back).
    boost::asio::awaitable<boost::system::error_code>
    async_call(net::http::verb method, std::string target, std::string body, rest_response& out,
               diagnostics& diag, const call_options& opts = default_call_options());

    // For the CometD client: the current token, or a new one when `refresh` (the old one was
    // refused). nullopt when no token can be had.
    boost::asio::awaitable<std::optional<std::string>> streaming_token(bool refresh);

    // "/services/data/v60.0" + rest.
    [[nodiscard]] std::string data_path(std::string_view rest) const;
    [[nodiscard]] const std::string& instance_url() const noexcept { return token_.instance_url; }
    [[nodiscard]] const std::string& api_version() const noexcept { return cfg_.api_version; }
    // The integration user's record id: the last part of the token's identity URL
    // (".../id/<org id>/<user id>"); empty before the first login.
    [[nodiscard]] std::string user_id() const;
    [[nodiscard]] const rest_config& config() const noexcept { return cfg_; }
    [[nodiscard]] api_usage& usage() noexcept { return usage_; }
    [[nodiscard]] std::size_t logins() const noexcept { return logins_; }
    [[nodiscard]] std::size_t retries() const noexcept { return retries_; }
    // The same by cause: "network" (no answer), "lock" (UNABLE_TO_LOCK_ROW), "server" (5xx).
    [[nodiscard]] const std::map<std::string, std::uint64_t>& retries_by_cause() const noexcept {
        return retries_by_cause_;
    }

    // Describe of one object (JSON text) and of the org (describeGlobal).
    boost::asio::awaitable<boost::system::error_code>
    describe(std::string_view object, std::string& json, diagnostics& diag);
    boost::asio::awaitable<boost::system::error_code> describe_global(std::string& json,
                                                                      diagnostics& diag);

    // query / queryAll, following nextRecordsUrl; `on_page` gets each page and may stop early by
    // returning an error (which query returns). batch_size 0: Salesforce's default.
    using page_handler =
        std::function<boost::asio::awaitable<boost::system::error_code>(query_page& page)>;
    boost::asio::awaitable<boost::system::error_code>
    query(std::string soql, bool include_deleted, int batch_size, const page_handler& on_page,
          diagnostics& diag, const call_options& opts = default_call_options());

    // Sleeps for the backoff of the given attempt (1-based), jittered; for callers that retry
    // per record (collections).
    boost::asio::awaitable<void> backoff(int attempt);

private:
    struct slot;
    boost::asio::awaitable<slot*> acquire();
    void release(slot* s) noexcept;
    boost::asio::awaitable<boost::system::error_code> renew(const std::string& stale,
                                                            diagnostics& diag);
    std::chrono::milliseconds backoff_delay(int attempt);

    boost::asio::any_io_executor ex_;
    rest_config cfg_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    authenticator auth_;
    access_token token_;
    std::optional<net::url> instance_;
    std::vector<std::unique_ptr<slot>> slots_;
    boost::asio::steady_timer slot_freed_;
    // A refresh in progress: other requests that saw the same stale token wait for it.
    bool renewing_ = false;
    boost::system::error_code last_renew_error_;
    diagnostics last_renew_diag_;
    boost::asio::steady_timer renewed_;
    limit_backoff limit_;
    api_usage usage_;
    std::minstd_rand rng_;
    std::size_t logins_ = 0;
    std::size_t retries_ = 0;
    std::map<std::string, std::uint64_t> retries_by_cause_;
};

// Reads Salesforce's error body ([{"message","errorCode","fields"}] or one such object) into
// diag; false when the body is not in that shape.
bool read_error_body(std::string_view body, diagnostics& diag);

} // namespace sfbridge::salesforce
