#include "test/support/tcp_gate.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <vector>

namespace sfbridge::test {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct link {
    explicit link(asio::io_context& io) : client(io), server(io) {}
    tcp::socket client;
    tcp::socket server;
    void close() {
        boost::system::error_code ignored;
        client.close(ignored);
        server.close(ignored);
    }
};
} // namespace

struct tcp_gate::impl {
    impl(asio::io_context& io_, std::uint16_t target)
        : io(io_), acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0}), target_port(target) {}
    asio::io_context& io;
    tcp::acceptor acceptor;
    std::uint16_t target_port;
    bool blackhole = false;
    std::vector<std::weak_ptr<link>> links;

    static asio::awaitable<void> pump(std::shared_ptr<impl> self, std::shared_ptr<link> l,
                                      tcp::socket& from, tcp::socket& to) {
        std::array<char, 16384> buf;
        for (;;) {
            auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), use_tuple);
            if (ec)
                break;
            if (self->blackhole)
                continue; // the cut: bytes vanish, nobody is told
            auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), use_tuple);
            if (wec)
                break;
        }
        l->close();
    }

    static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
        for (;;) {
            auto l = std::make_shared<link>(self->io);
            auto [ec] = co_await self->acceptor.async_accept(l->client, use_tuple);
            if (ec)
                co_return;
            auto [cec] = co_await l->server.async_connect(
                {asio::ip::make_address("127.0.0.1"), self->target_port}, use_tuple);
            if (cec) {
                l->close();
                continue;
            }
            self->links.push_back(l);
            asio::co_spawn(self->io, pump(self, l, l->client, l->server), asio::detached);
            asio::co_spawn(self->io, pump(self, l, l->server, l->client), asio::detached);
        }
    }
};

tcp_gate::tcp_gate(asio::io_context& io, std::uint16_t target_port)
    : impl_(std::make_shared<impl>(io, target_port)) {
    asio::co_spawn(io, impl::accept_loop(impl_), asio::detached);
}

tcp_gate::~tcp_gate() {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    drop_all();
}

std::uint16_t tcp_gate::port() const noexcept {
    return impl_->acceptor.local_endpoint().port();
}
void tcp_gate::set_blackhole(bool on) noexcept {
    impl_->blackhole = on;
}

void tcp_gate::drop_all() noexcept {
    for (auto& w : impl_->links)
        if (auto l = w.lock())
            l->close();
    impl_->links.clear();
}

} // namespace sfbridge::test
