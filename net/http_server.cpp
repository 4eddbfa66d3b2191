#include "net/http_server.hpp"

#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <cerrno>
#include <string>
#include <sys/socket.h>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

namespace sfbridge::net {
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

struct http_server::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor ex_, handler h, asio::ssl::context* tls_, options o)
        : ex(ex_), acceptor(ex_), on_request(std::move(h)), tls(tls_), opts(o) {}

    asio::any_io_executor ex;
    tcp::acceptor acceptor;
    handler on_request;
    asio::ssl::context* tls;
    options opts;
    bool stopped = false;
    // The listening socket was handed over: requests being served, or arriving within a grace
    // period on connections already open, are answered (then the connection closes).
    bool handing_over = false;
    std::unique_ptr<asio::steady_timer> idle_closer;
    std::chrono::milliseconds handover_grace{1000};
    std::unordered_set<std::uint64_t> busy; // connections with a request being answered
    std::uint64_t next_id = 0;
    // Closes one connection's socket; removed when the connection ends.
    std::unordered_map<std::uint64_t, std::function<void()>> closers;

    // Once the hand-over's grace has passed, the connections with no request being answered
    // close.
    static void arm_idle_closer(const std::shared_ptr<impl>& self) {
        if (self->idle_closer)
            return;
        self->idle_closer = std::make_unique<asio::steady_timer>(self->ex, self->handover_grace);
        self->idle_closer->async_wait([self](const boost::system::error_code& tec) {
            if (tec)
                return;
            auto closers = self->closers;
            for (auto& [id, close] : closers)
                if (!self->busy.contains(id))
                    close();
        });
    }

    void connection_ended(std::uint64_t id) {
        closers.erase(id);
        // Handing over: the last connection has ended, so nothing waits for the grace.
        if (handing_over && closers.empty() && idle_closer)
            idle_closer.reset(); // cancels its wait
    }

    template <class Stream>
    asio::awaitable<void> serve(Stream& stream, peer_info peer) {
        struct busy_mark {
            impl& self;
            std::uint64_t id;
            ~busy_mark() { self.busy.erase(id); }
        };
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(opts.body_limit);
            beast::get_lowest_layer(stream).expires_after(opts.idle_timeout);
            auto [rec, nread] = co_await http::async_read(stream, buffer, parser, use_tuple);
            if (rec) {
                if (rec == http::error::body_limit) {
                    response too_big{http::status::payload_too_large, 11};
                    too_big.body() = "request body too large";
                    too_big.prepare_payload();
                    beast::get_lowest_layer(stream).expires_after(opts.write_timeout);
                    (void)co_await http::async_write(stream, too_big, use_tuple);
                }
                co_return;
            }
            beast::get_lowest_layer(stream).expires_never();
            busy.insert(peer.connection_id);
            const busy_mark mark{*this, peer.connection_id};
            request req = parser.release();
            std::optional<response> res;
            try {
                res = co_await on_request(req, peer);
            } catch (const std::exception& e) {
                // A bug in a handler ends that request, never the server.
                log::error("http", "request handler failed",
                           {{"target", std::string(req.target())}, {"error", e.what()}});
                res.emplace(http::status::internal_server_error, req.version());
                res->body() = "internal error";
            }
            if (!res || stopped)
                co_return; // drop without answering
            const bool keep_alive = req.keep_alive() && res->keep_alive() && !handing_over;
            res->version(req.version());
            res->keep_alive(keep_alive);
            res->prepare_payload();
            beast::get_lowest_layer(stream).expires_after(opts.write_timeout);
            auto [wec, n] = co_await http::async_write(stream, *res, use_tuple);
            if (wec || !keep_alive)
                co_return;
        }
    }

    static asio::awaitable<void> session(std::shared_ptr<impl> self, tcp::socket socket) {
        const std::uint64_t id = ++self->next_id;
        peer_info peer;
        boost::system::error_code ec;
        peer.remote = socket.remote_endpoint(ec);
        peer.connection_id = id;
        if (self->tls) {
            peer.tls = true;
            beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *self->tls);
            self->closers[id] = [&stream] {
                boost::system::error_code ignored;
                beast::get_lowest_layer(stream).socket().close(ignored);
            };
            beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
            auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
            if (!hec)
                co_await self->serve(stream, peer);
            self->connection_ended(id);
            beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
            (void)co_await stream.async_shutdown(use_tuple);
        } else {
            beast::tcp_stream stream(std::move(socket));
            self->closers[id] = [&stream] {
                boost::system::error_code ignored;
                stream.socket().close(ignored);
            };
            co_await self->serve(stream, peer);
            self->connection_ended(id);
            boost::system::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
    }

    static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
        for (;;) {
            auto [ec, socket] = co_await self->acceptor.async_accept(use_tuple);
            if (ec) {
                if (self->stopped || self->handing_over || ec == asio::error::operation_aborted)
                    co_return;
                continue; // e.g. EMFILE: keep serving the connections we have
            }
            if (self->stopped)
                co_return;                        // accepted just before the stop: not served
            const bool last = self->handing_over; // accepted before the hand-over: served
            if (last)
                arm_idle_closer(self); // a client that sends nothing does not hold the exit
            if (self->opts.max_connections > 0 &&
                self->closers.size() >= self->opts.max_connections) {
                socket.close(ec); // over the cap: the served connections keep their descriptors
                continue;
            }
            socket.set_option(tcp::no_delay(true), ec);
            // One connection's exception (a handler's bug) ends that connection, logged; the
            // server goes on with the others.
            asio::co_spawn(self->ex, session(self, std::move(socket)), [](std::exception_ptr e) {
                if (!e)
                    return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    log::error("http", "a connection ended by an exception", {{"error", x.what()}});
                } catch (...) {
                    log::error("http", "a connection ended by an exception");
                }
            });
            if (last)
                co_return;
        }
    }
};

http_server::http_server(asio::any_io_executor ex, handler h, asio::ssl::context* tls)
    : http_server(ex, std::move(h), tls, options{}) {}

http_server::http_server(asio::any_io_executor ex, handler h, asio::ssl::context* tls, options opts)
    : impl_(std::make_shared<impl>(ex, std::move(h), tls, opts)) {}

http_server::~http_server() {
    stop();
}

void http_server::listen(const tcp::endpoint& ep) {
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen(asio::socket_base::max_listen_connections);
    start_accepting();
}

void http_server::adopt(int native_listener) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int listening = 0;
    socklen_t opt_len = sizeof listening;
    int err = 0;
    if (::getsockname(native_listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        ::getsockopt(native_listener, SOL_SOCKET, SO_ACCEPTCONN, &listening, &opt_len) != 0)
        err = errno;
    else if (!listening || (addr.ss_family != AF_INET && addr.ss_family != AF_INET6))
        err = EINVAL;
    if (err != 0)
        throw std::system_error(err, std::generic_category(),
                                "descriptor " + std::to_string(native_listener) +
                                    " is not a listening TCP socket");
    impl_->acceptor.assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), native_listener);
    start_accepting();
}

int http_server::release_listener(std::chrono::milliseconds grace) {
    if (impl_->stopped || impl_->handing_over || !impl_->acceptor.is_open())
        return -1;
    impl_->handing_over = true;
    boost::system::error_code ec;
    const int fd = impl_->acceptor.release(ec); // cancels the pending accept; does not close
    // Connections with a request being answered finish it; the others get `grace` to send
    // one (a client that connected just before), then close if they are still idle.
    impl_->handover_grace = grace;
    if (!impl_->closers.empty())
        impl::arm_idle_closer(impl_);
    return ec ? -1 : fd;
}

void http_server::start_accepting() {
    // The accept loop handles its errors; an exception is a bug, out of the io_context with it.
    asio::co_spawn(impl_->ex, impl::accept_loop(impl_), [](std::exception_ptr e) {
        if (e)
            std::rethrow_exception(e);
    });
}

std::uint16_t http_server::port() const {
    return impl_->acceptor.local_endpoint().port();
}
bool http_server::tls() const noexcept {
    return impl_->tls != nullptr;
}

void http_server::drop_all_connections() {
    // Copy first: closing makes sessions finish, and they erase themselves.
    auto closers = impl_->closers;
    for (auto& [id, close] : closers)
        close();
}

std::size_t http_server::open_connections() const noexcept {
    return impl_->closers.size();
}

void http_server::stop() {
    if (impl_->stopped)
        return;
    impl_->stopped = true;
    if (impl_->idle_closer)
        impl_->idle_closer->cancel();
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    drop_all_connections();
}

} // namespace sfbridge::net
