#pragma once

#include "pg/connection.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cctype>
#include <chrono>
#include <string>

// Small helpers the campaign's files share.
namespace sfbridge::chaos {

inline boost::asio::awaitable<void> pause(std::chrono::milliseconds d) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(boost::asio::use_awaitable);
}

inline boost::asio::awaitable<void> pause_until(std::chrono::steady_clock::time_point at) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, at);
    co_await t.async_wait(boost::asio::use_awaitable);
}

// A Salesforce field name as its Postgres column (Heroku Connect's rule: lower case).
inline std::string lower(std::string s) {
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The first value of a query's first row, or "" (no row, NULL, an error).
inline boost::asio::awaitable<std::string> scalar(pg::connection& c, const std::string& sql) {
    pg::result r;
    pg::diagnostics d;
    if (co_await c.async_query(sql, r, d) || r.rows() == 0 || r.is_null(0, 0))
        co_return std::string();
    co_return std::string(r.value(0, 0));
}

} // namespace sfbridge::chaos
