#pragma once

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>
#include <type_traits>

// Errors of the PostgreSQL layer, in three parts (after ozo and taoPQ):
//  - pg::errc: failures of this library or of libpq itself (no server-side SQLSTATE),
//  - SQLSTATE codes reported by the server, as error_codes of their own category,
//  - pg::condition: groups that callers test (`ec == pg::condition::retryable`) without listing
//    codes.
namespace sfbridge::pg {

enum class errc {
    connect_failed = 1,    // libpq could not establish the session (refused, bad password, ...)
    timeout,               // an operation's deadline passed; the connection was closed
    connection_lost,       // the socket failed or the server went away
    broken,                // the connection was marked unusable by an earlier failure
    not_connected,         // no connection was opened, or it was closed
    operation_in_progress, // a second operation was started while one is outstanding
    pipeline_out_of_sync,  // libpq's results did not match what was sent
    pipeline_aborted,      // the statement was skipped because an earlier one in its group failed
    unexpected_result,     // a result of a kind the operation cannot handle (e.g. COPY OUT)
    invalid_argument,      // a bad DSN, statement or parameter; nothing was sent
    cancelled,             // the wait was cancelled by the caller (close or cancel)
    server_error,          // the server reported an error without a SQLSTATE
};

enum class condition {
    connection_lost = 1,  // class 08, 57P01..57P03, 57P05, and lost/broken/timed-out sessions
    retryable,            // 40001 serialization failure, 40P01 deadlock, 55P03 lock not available
    constraint_violation, // class 23
    bad_input,            // classes 22 and 42
};

[[nodiscard]] const boost::system::error_category& client_category() noexcept;
[[nodiscard]] const boost::system::error_category& sqlstate_category() noexcept;
[[nodiscard]] const boost::system::error_category& condition_category() noexcept;

[[nodiscard]] boost::system::error_code make_error_code(errc e) noexcept;
[[nodiscard]] boost::system::error_condition make_error_condition(condition c) noexcept;

// A SQLSTATE is five characters of [0-9A-Z]; it is packed base-36 into the error_code's value,
// so that it survives as a plain error_code. Returns 0 for anything that is not a SQLSTATE.
[[nodiscard]] int encode_sqlstate(std::string_view sqlstate) noexcept;
[[nodiscard]] std::string decode_sqlstate(int value);
// An error_code in sqlstate_category(); a malformed SQLSTATE gives errc::server_error.
[[nodiscard]] boost::system::error_code make_sqlstate_error(std::string_view sqlstate) noexcept;
// The SQLSTATE carried by an error_code, or "" when it is not a server error.
[[nodiscard]] std::string sqlstate_of(const boost::system::error_code& ec);

} // namespace sfbridge::pg

namespace boost::system {
template <>
struct is_error_code_enum<sfbridge::pg::errc> : std::true_type {};
template <>
struct is_error_condition_enum<sfbridge::pg::condition> : std::true_type {};
} // namespace boost::system
