#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sfbridge::test {

struct http_reply {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers; // lower-case names
    std::vector<std::string> set_cookies;
    boost::system::error_code error; // a transport failure (then status is 0)
};

// A plain HTTP/1.1 client for benchmarks and tests, to drive sfsim and sfbridge on loopback
// (in bench/support because benchmarks may not include test/; the namespace is kept). One
// keep-alive connection, reopened when the server closes it, an optional cookie jar (names and
// values only, sent on every request), and an optional bearer token.
class http_client {
public:
    http_client(boost::asio::io_context& io, std::uint16_t port) : io_(io), port_(port) {}

    boost::asio::awaitable<http_reply>
    call(boost::beast::http::verb method, std::string target, std::string body = {},
         std::map<std::string, std::string> headers = {},
         std::chrono::milliseconds timeout = std::chrono::seconds(30));

    std::string token; // sent as "Authorization: Bearer <token>" when set
    bool use_cookies = true;
    std::map<std::string, std::string> cookies;

    void close();

private:
    boost::asio::io_context& io_;
    std::uint16_t port_;
    std::optional<boost::beast::tcp_stream> stream_;
};

} // namespace sfbridge::test
