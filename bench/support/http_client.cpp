#include "bench/support/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace sfbridge::test {
namespace asio = boost::asio;
namespace http = boost::beast::http;

void http_client::close() {
    if (stream_) {
        boost::system::error_code ignored;
        stream_->socket().close(ignored);
        stream_.reset();
    }
}

asio::awaitable<http_reply> http_client::call(http::verb method, std::string target,
                                              std::string body,
                                              std::map<std::string, std::string> headers,
                                              std::chrono::milliseconds timeout) {
    constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(true);
    if (!token.empty())
        req.set(http::field::authorization, "Bearer " + token);
    if (use_cookies && !cookies.empty()) {
        std::string c;
        for (const auto& [k, v] : cookies)
            c += (c.empty() ? "" : "; ") + k + "=" + v;
        req.set(http::field::cookie, c);
    }
    for (const auto& [k, v] : headers)
        req.set(k, v);
    req.body() = std::move(body);
    req.prepare_payload();

    http_reply reply;
    // One retry on a fresh connection: the server may have closed an idle keep-alive one.
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool fresh = !stream_;
        if (!stream_) {
            stream_.emplace(io_);
            stream_->expires_after(timeout);
            auto [cec] = co_await stream_->async_connect(
                {asio::ip::make_address("127.0.0.1"), port_}, use_tuple);
            if (cec) {
                reply.error = cec;
                close();
                co_return reply;
            }
        }
        stream_->expires_after(timeout);
        auto [wec, wn] = co_await http::async_write(*stream_, req, use_tuple);
        boost::beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(1024 * 1024 * 1024);
        boost::system::error_code rec;
        if (!wec) {
            auto [e, n] = co_await http::async_read(*stream_, buffer, parser, use_tuple);
            rec = e;
        }
        if (wec || rec) {
            reply.error = wec ? wec : rec;
            close();
            if (!fresh && reply.error != asio::error::timed_out &&
                reply.error != boost::beast::error::timeout)
                continue;
            co_return reply;
        }
        reply.error = {};
        auto res = parser.release();
        reply.status = static_cast<int>(res.result_int());
        reply.body = std::move(res.body());
        for (const auto& h : res) {
            std::string name(h.name_string());
            for (char& ch : name)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            if (name == "set-cookie") {
                std::string v(h.value());
                reply.set_cookies.push_back(v);
                const auto eq = v.find('='), semi = v.find(';');
                if (eq != std::string::npos)
                    cookies[v.substr(0, eq)] =
                        v.substr(eq + 1, semi == std::string::npos ? semi : semi - eq - 1);
            }
            reply.headers[name] = std::string(h.value());
        }
        if (!res.keep_alive())
            close();
        co_return reply;
    }
    co_return reply;
}

} // namespace sfbridge::test
