#pragma once

// What the parts of pg::connection (connection*.cpp) share, and nothing outside pg/ includes.
#include "pg/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>

namespace sfbridge::pg::detail {

inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

// libpq's messages end with a newline; diagnostics and logs want one line.
inline std::string trimmed(const char* text) {
    std::string s = text ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

inline std::string field_of(const PGresult* r, int code) {
    const char* v = PQresultErrorField(r, code);
    return v ? v : "";
}

} // namespace sfbridge::pg::detail

namespace sfbridge::pg {

// Marks the connection busy for the duration of one operation and restores it afterwards,
// also when the coroutine is destroyed mid-way.
class connection::op_scope {
public:
    explicit op_scope(connection& c, state next = state::idle) noexcept : c_(c), next_(next) {}
    ~op_scope() { c_.end_op(next_); }
    op_scope(const op_scope&) = delete;
    op_scope& operator=(const op_scope&) = delete;
    void set_next(state s) noexcept { next_ = s; }

private:
    connection& c_;
    state next_;
};
} // namespace sfbridge::pg
