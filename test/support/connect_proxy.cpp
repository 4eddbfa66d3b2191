#include "test/support/connect_proxy.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <charconv>
#include <istream>

namespace sfbridge::test {
namespace asio = boost::asio;
using asio::ip::tcp;
namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
    std::array<char, 16384> buf;
    for (;;) {
        auto [ec, n] = co_await from->async_read_some(asio::buffer(buf), use_tuple);
        if (ec)
            break;
        auto [wec, wn] = co_await asio::async_write(*to, asio::buffer(buf.data(), n), use_tuple);
        if (wec)
            break;
    }
    boost::system::error_code ignored;
    from->close(ignored);
    to->close(ignored);
}
} // namespace

struct connect_proxy::impl {
    explicit impl(asio::io_context& io_)
        : io(io_), acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0}) {}
    asio::io_context& io;
    tcp::acceptor acceptor;
    bool refusing = false;
    int tunnels = 0;

    static asio::awaitable<void> serve(std::shared_ptr<impl> self,
                                       std::shared_ptr<tcp::socket> client) {
        asio::streambuf buf;
        auto [ec, n] = co_await asio::async_read_until(*client, buf, "\r\n\r\n", use_tuple);
        if (ec)
            co_return;
        std::istream in(&buf);
        std::string method, target;
        in >> method >> target;
        if (method != "CONNECT" || self->refusing) {
            std::string no = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
            (void)co_await asio::async_write(*client, asio::buffer(no), use_tuple);
            co_return;
        }
        const auto colon = target.rfind(':');
        std::uint16_t port = 0;
        std::from_chars(target.data() + colon + 1, target.data() + target.size(), port);
        auto upstream = std::make_shared<tcp::socket>(self->io);
        tcp::resolver resolver(self->io);
        auto [rec, eps] = co_await resolver.async_resolve(target.substr(0, colon),
                                                          std::to_string(port), use_tuple);
        if (rec)
            co_return;
        auto [cec, ep] = co_await asio::async_connect(*upstream, eps, use_tuple);
        if (cec)
            co_return;
        ++self->tunnels;
        std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
        (void)co_await asio::async_write(*client, asio::buffer(ok), use_tuple);
        asio::co_spawn(self->io, pump(client, upstream), asio::detached);
        asio::co_spawn(self->io, pump(upstream, client), asio::detached);
    }

    static asio::awaitable<void> accept(std::shared_ptr<impl> self) {
        for (;;) {
            auto client = std::make_shared<tcp::socket>(self->io);
            auto [ec] = co_await self->acceptor.async_accept(*client, use_tuple);
            if (ec)
                co_return;
            asio::co_spawn(self->io, serve(self, client), asio::detached);
        }
    }
};

connect_proxy::connect_proxy(asio::io_context& io) : impl_(std::make_shared<impl>(io)) {
    asio::co_spawn(io, impl::accept(impl_), asio::detached);
}
connect_proxy::~connect_proxy() {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
}
std::uint16_t connect_proxy::port() const {
    return impl_->acceptor.local_endpoint().port();
}
void connect_proxy::refuse(bool on) noexcept {
    impl_->refusing = on;
}
int connect_proxy::tunnels() const noexcept {
    return impl_->tunnels;
}

} // namespace sfbridge::test
