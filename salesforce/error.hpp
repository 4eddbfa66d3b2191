#pragma once

#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>
#include <vector>

namespace sfbridge::salesforce {

enum class errc {
    auth_failed = 1,        // the token endpoint refused the credentials (wrong password, key)
    session_expired,        // 401 INVALID_SESSION_ID after a refresh: no usable token
    request_limit_exceeded, // 403 REQUEST_LIMIT_EXCEEDED: the org's API allowance is spent
    daily_budget_exhausted, // sfbridge's own per-mapping budget (sf_max_daily_api_calls)
    unavailable,            // 5xx, or transient errors that outlasted the retries
    api_error,              // any other error answer: errorCode and message in diagnostics
    bad_response,           // an answer that is not what the API documents
    job_failed,             // a Bulk API job ended Failed or Aborted
    // A write that is not idempotent (a POST) was sent and its answer lost (a read timeout, a
    // connection closed after the request, a 5xx that is not Salesforce's own "not processed"):
    // Salesforce may have applied it. Retryable, but not by sending the same create again.
    outcome_unknown,
};

enum class condition {
    retryable = 1, // try again later: unavailable, limits, expired sessions, network trouble
};

[[nodiscard]] const boost::system::error_category& category() noexcept;
[[nodiscard]] const boost::system::error_category& condition_category() noexcept;
[[nodiscard]] boost::system::error_code make_error_code(errc e) noexcept;
[[nodiscard]] boost::system::error_condition make_error_condition(condition c) noexcept;

// What Salesforce said. Never holds tokens or request bodies, so it is safe to log.
struct diagnostics {
    unsigned http_status = 0;
    std::string error_code; // errorCode / statusCode / OAuth "error"
    std::string message;    // Salesforce's message or error_description
    std::vector<std::string> fields;
    std::string client_message; // our words: which call, what we were doing
    void clear() { *this = diagnostics{}; }
    [[nodiscard]] std::string summary() const;
};

} // namespace sfbridge::salesforce

namespace boost::system {
template <>
struct is_error_code_enum<sfbridge::salesforce::errc> : std::true_type {};
template <>
struct is_error_condition_enum<sfbridge::salesforce::condition> : std::true_type {};
} // namespace boost::system
