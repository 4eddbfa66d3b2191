#pragma once

#include "pg/connection.hpp"
#include "test/support/run.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace sfbridge::test {

// The throwaway cluster's DSN, set by ./scripts/test.
inline std::string pg_dsn() {
    const char* v = std::getenv("SFBRIDGE_TEST_PG_DSN");
    if (!v || !*v)
        FAIL("SFBRIDGE_TEST_PG_DSN is not set: run the suite through ./scripts/test");
    return v;
}

// A DSN with one keyword replaced or added (libpq takes the last value of a repeated key).
inline std::string pg_dsn_with(const std::string& extra) {
    return pg_dsn() + " " + extra;
}

inline boost::asio::awaitable<void> must_connect(pg::connection& c) {
    pg::diagnostics diag;
    auto ec = co_await c.async_connect(pg_dsn(), diag);
    INFO(diag.summary());
    REQUIRE_FALSE(ec);
}

inline boost::asio::awaitable<void> must_exec(pg::connection& c, std::string_view sql) {
    pg::diagnostics diag;
    auto ec = co_await c.async_exec(sql, diag);
    INFO(sql << ": " << diag.summary());
    REQUIRE_FALSE(ec);
}

inline boost::asio::awaitable<pg::result> must_query(pg::connection& c, std::string_view sql,
                                                     const pg::params& args = {}) {
    pg::diagnostics diag;
    pg::result r;
    auto ec = co_await c.async_query(sql, args, r, diag);
    INFO(sql << ": " << diag.summary());
    REQUIRE_FALSE(ec);
    co_return r;
}

// Open file descriptors of this process, to catch leaks. Call it after the io_context's reactor
// exists (reactor_ready), since Asio opens its epoll, eventfd and timerfd on first use.
inline std::size_t open_fds() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
        ++n;
    return n;
}

inline void reactor_ready(boost::asio::io_context& io) {
    boost::asio::ip::tcp::socket s(io);
    s.open(boost::asio::ip::tcp::v4());
    s.close();
}

// A name unique to this test process, for tables that parallel tests must not share.
inline std::string unique_name(std::string_view prefix) {
    static int counter = 0;
    return std::string(prefix) + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
}

} // namespace sfbridge::test
