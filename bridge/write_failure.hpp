#pragma once

#include <boost/system/error_code.hpp>

// Why a write into a mapping's table failed, which decides what happens to its batch. Pure.
namespace sfbridge::bridge {

enum class write_failure : unsigned char {
    // Postgres refused a row for what it holds: a value that does not fit its column or type
    // (class 22: too long, bad encoding, out of range), a constraint (class 23: check, not
    // null, unique, foreign key) or the app's PL/pgSQL code run for it (class P0: a trigger's
    // RAISE, ASSERT or STRICT lookup). Writing the same row again fails again: the row is
    // isolated and recorded, the rest of its batch goes in.
    refused_row,
    // Anything else: the connection (08, 57P01...), a timeout (57014), the disk (53100), a
    // conflict (40001, 40P01, 55P03), the schema or privileges (42, changed by someone, fixed
    // by someone), a failure of the client. The batch is retried as it is, and nothing in it
    // is a data error.
    transient,
    // Another replica has taken the mapping over (SQLSTATE SB001 from the epoch fence,
    // bridge/leadership_sql): nothing of this replica's may be written for it any more. Not
    // retried; the engine stops the mapping's sync.
    fenced,
};

[[nodiscard]] write_failure classify_write_failure(const boost::system::error_code& ec);

// A writer's own errors (not Postgres').
enum class write_errc {
    // The writer's session was opened again after one was lost: what the lost session
    // committed (with synchronous_commit = off) may be gone with a server crash, and with it
    // the stream position or high-water marks the owner holds in memory. Nothing more is
    // written until the owner has read its positions back from _sfbridge_state.
    positions_unsure = 1,
};
[[nodiscard]] const boost::system::error_category& write_category() noexcept;
[[nodiscard]] inline boost::system::error_code make_error_code(write_errc e) noexcept {
    return {static_cast<int>(e), write_category()};
}

} // namespace sfbridge::bridge

namespace boost::system {
template <>
struct is_error_code_enum<sfbridge::bridge::write_errc> : std::true_type {};
} // namespace boost::system
