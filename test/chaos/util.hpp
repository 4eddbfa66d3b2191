#pragma once

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

} // namespace sfbridge::chaos
