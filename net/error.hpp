#pragma once

#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>

namespace sfbridge::net {

enum class errc {
    bad_url = 1,       // the URL or proxy setting cannot be used
    resolve_failed,    // DNS gave no address
    connect_failed,    // no TCP connection (refused, unreachable)
    timeout,           // a step did not finish before its deadline
    tls_failed,        // the TLS handshake failed: often a certificate that does not verify
    proxy_refused,     // the proxy answered CONNECT with something other than 200
    connection_closed, // the peer closed or reset the connection mid-exchange
    body_too_large,    // the response body is over the configured limit
    bad_response,      // an unreadable response (malformed HTTP, bad gzip)
};

enum class condition {
    retryable = 1, // worth trying again later: timeouts, lost connections, refused connects
};

[[nodiscard]] const boost::system::error_category& client_category() noexcept;
[[nodiscard]] const boost::system::error_category& condition_category() noexcept;
[[nodiscard]] boost::system::error_code make_error_code(errc e) noexcept;
[[nodiscard]] boost::system::error_condition make_error_condition(condition c) noexcept;

// What went wrong beside the error_code: our own words (safe to log), and the underlying
// library's message. Response bodies are never put here.
struct diagnostics {
    std::string client_message; // e.g. "TLS handshake with login.salesforce.com:443"
    std::string detail;         // e.g. "certificate verify failed"
    void clear() {
        client_message.clear();
        detail.clear();
    }
    [[nodiscard]] std::string summary() const {
        return detail.empty() ? client_message : client_message + ": " + detail;
    }
};

} // namespace sfbridge::net

namespace boost::system {
template <>
struct is_error_code_enum<sfbridge::net::errc> : std::true_type {};
template <>
struct is_error_condition_enum<sfbridge::net::condition> : std::true_type {};
} // namespace boost::system
