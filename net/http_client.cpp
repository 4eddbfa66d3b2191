#include "net/http_client.hpp"

#include "core/text.hpp"
#include "net/gzip.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdlib>

namespace sfbridge::net {
namespace beast = boost::beast;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

bool is_ip(const std::string& host) {
    error_code ec;
    (void)asio::ip::make_address(host, ec);
    return !ec;
}

bool is_loopback(const std::string& host) {
    if (host == "localhost")
        return true;
    error_code ec;
    const auto a = asio::ip::make_address(host, ec);
    return !ec && a.is_loopback();
}

const char* env(const char* upper, const char* lower) {
    const char* v = std::getenv(lower);
    if (!v || !*v)
        v = std::getenv(upper);
    return v && *v ? v : nullptr;
}

bool idempotent(http::verb v) {
    return v == http::verb::get || v == http::verb::head || v == http::verb::put ||
           v == http::verb::delete_ || v == http::verb::options;
}

// The library's words for a TLS failure ("certificate verify failed", ...).
std::string tls_detail(const error_code& ec) {
    if (ec.category() == asio::error::get_ssl_category()) {
        const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
        return reason ? reason : ec.message();
    }
    return ec.message();
}

template <class Stream>
asio::awaitable<std::pair<error_code, bool>> write_request(Stream& s,
                                                           http::request<http::string_body>& req) {
    auto [ec, n] = co_await http::async_write(s, req, use_tuple);
    co_return std::pair{ec, ec.failed()};
}

template <class Stream>
asio::awaitable<error_code> read_response(Stream& s, beast::flat_buffer& buffer,
                                          http::response_parser<http::string_body>& parser) {
    auto [ec, n] = co_await http::async_read(s, buffer, parser, use_tuple);
    co_return ec;
}

} // namespace

std::optional<url> proxy_from_environment(const url& destination) {
    if (is_loopback(destination.host))
        return std::nullopt;
    if (const char* no_proxy = env("NO_PROXY", "no_proxy")) {
        std::string_view list = no_proxy;
        while (!list.empty()) {
            const auto comma = list.find(',');
            std::string_view entry = list.substr(0, comma);
            while (!entry.empty() && entry.front() == ' ')
                entry.remove_prefix(1);
            while (!entry.empty() && entry.back() == ' ')
                entry.remove_suffix(1);
            if (!entry.empty() && entry.front() == '.')
                entry.remove_prefix(1);
            const std::string e = text::ascii_lower(entry);
            if (e == "*" || destination.host == e ||
                (destination.host.size() > e.size() && destination.host.ends_with("." + e)))
                return std::nullopt;
            if (comma == std::string_view::npos)
                break;
            list.remove_prefix(comma + 1);
        }
    }
    const char* value =
        destination.tls() ? env("HTTPS_PROXY", "https_proxy") : env("HTTP_PROXY", "http_proxy");
    if (!value)
        return std::nullopt;
    std::string text_value = value;
    if (text_value.find("://") == std::string::npos)
        text_value = "http://" + text_value;
    return parse_url(text_value);
}

std::shared_ptr<asio::ssl::context> make_tls_context(const client_options& o) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    if (o.ca_file.empty())
        ctx->set_default_verify_paths();
    else
        ctx->load_verify_file(o.ca_file); // throws with the file's name on failure
    ctx->set_verify_mode(o.verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none);
    return ctx;
}

http_connection::http_connection(asio::any_io_executor ex, url origin, client_options opts,
                                 std::shared_ptr<asio::ssl::context> tls, cookie_jar* jar)
    : ex_(ex), origin_(std::move(origin)), opts_(std::move(opts)), tls_(std::move(tls)), jar_(jar) {
}

http_connection::~http_connection() {
    close();
}

beast::tcp_stream& http_connection::lowest() noexcept {
    return ssl_ ? beast::get_lowest_layer(*ssl_) : *tcp_;
}

void http_connection::close() noexcept {
    error_code ignored;
    if (ssl_)
        beast::get_lowest_layer(*ssl_).socket().close(ignored);
    if (tcp_)
        tcp_->socket().close(ignored);
    ssl_.reset();
    tcp_.reset();
    buffer_.clear();
    open_ = false;
}

asio::awaitable<error_code> http_connection::connect(diagnostics& diag) {
    using namespace asio::experimental::awaitable_operators;
    close();
    if (!origin_.tls() && !opts_.allow_plain_http && !is_loopback(origin_.host)) {
        diag.client_message = "connect to " + origin_.authority();
        diag.detail = "plain http is only allowed to loopback addresses; use https";
        co_return errc::bad_url;
    }
    const url& hop = opts_.proxy ? *opts_.proxy : origin_;
    const std::string hop_name = hop.authority();

    // Resolve, with the connect deadline (the resolver has none of its own).
    diag.client_message = "resolve " + hop.host;
    tcp::resolver resolver(ex_);
    asio::steady_timer deadline(ex_, opts_.connect_timeout);
    auto resolved =
        co_await (resolver.async_resolve(hop.host, std::to_string(hop.port), use_tuple) ||
                  deadline.async_wait(use_tuple));
    if (resolved.index() == 1)
        co_return errc::timeout;
    auto [rec, endpoints] = std::get<0>(resolved);
    if (rec || endpoints.empty()) {
        diag.detail = rec.message();
        co_return errc::resolve_failed;
    }

    diag.client_message = "connect to " + hop_name;
    tcp_.emplace(ex_);
    tcp_->expires_after(opts_.connect_timeout);
    auto [cec, ep] = co_await tcp_->async_connect(endpoints, use_tuple);
    if (cec) {
        diag.detail = cec.message();
        close();
        co_return cec == beast::error::timeout ? errc::timeout : errc::connect_failed;
    }
    ++connects_;
    tcp_->socket().set_option(tcp::no_delay(true), cec);

    if (opts_.proxy) {
        // A tunnel to the origin: CONNECT host:port, then everything else inside it.
        diag.client_message = "open a tunnel to " + origin_.authority() + " through " + hop_name;
        http::request<http::empty_body> connect_req{http::verb::connect, origin_.authority(), 11};
        connect_req.set(http::field::host, origin_.authority());
        connect_req.set(http::field::user_agent, opts_.user_agent);
        auto [wec, wn] = co_await http::async_write(*tcp_, connect_req, use_tuple);
        http::response_parser<http::empty_body> parser;
        parser.skip(true); // a 200 answer to CONNECT has no body
        error_code pec = wec;
        if (!wec) {
            auto [e, n] = co_await http::async_read_header(*tcp_, buffer_, parser, use_tuple);
            pec = e;
        }
        if (pec) {
            diag.detail = pec.message();
            close();
            co_return pec == beast::error::timeout ? errc::timeout : errc::connection_closed;
        }
        if (parser.get().result_int() != 200) {
            diag.detail = "the proxy answered " + std::to_string(parser.get().result_int());
            close();
            co_return errc::proxy_refused;
        }
        buffer_.clear();
    }

    if (origin_.tls()) {
        diag.client_message = "TLS handshake with " + origin_.authority();
        ssl_.emplace(std::move(*tcp_), *tls_);
        tcp_.reset();
        // SNI names a host, never an address.
        // (SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.)
        if (!is_ip(origin_.host) &&
            !SSL_ctrl(ssl_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                      TLSEXT_NAMETYPE_host_name, const_cast<char*>(origin_.host.c_str()))) {
            close();
            co_return errc::tls_failed;
        }
        if (opts_.verify_peer)
            ssl_->set_verify_callback(asio::ssl::host_name_verification(origin_.host));
        beast::get_lowest_layer(*ssl_).expires_after(opts_.connect_timeout);
        auto [hec] = co_await ssl_->async_handshake(asio::ssl::stream_base::client, use_tuple);
        if (hec) {
            diag.detail = tls_detail(hec);
            close();
            co_return hec == beast::error::timeout ? errc::timeout : errc::tls_failed;
        }
    }
    open_ = true;
    diag.clear();
    co_return error_code{};
}

asio::awaitable<error_code> http_connection::exchange(http::verb method, const std::string& target,
                                                      const std::string& body,
                                                      const header_list& headers,
                                                      http_response& out, diagnostics& diag,
                                                      std::chrono::milliseconds timeout,
                                                      bool& nothing_received, bool& write_failed) {
    nothing_received = true;
    write_failed = false;
    http::request<http::string_body> req{method, target, 11};
    const bool default_port = origin_.port == (origin_.tls() ? 443 : 80);
    req.set(http::field::host, default_port ? origin_.host : origin_.authority());
    req.set(http::field::user_agent, opts_.user_agent);
    if (opts_.accept_gzip)
        req.set(http::field::accept_encoding, "gzip");
    url request_url = origin_;
    request_url.target = target;
    if (jar_) {
        const std::string cookies = jar_->header_for(request_url, cookie_jar::clock::now());
        if (!cookies.empty())
            req.set(http::field::cookie, cookies);
    }
    for (const auto& [k, v] : headers)
        req.set(k, v);
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();

    diag.client_message = std::string(http::to_string(method)) + " " + origin_.authority() +
                          std::string(request_url.path());
    lowest().expires_after(opts_.write_timeout);
    auto [wec, failed] =
        ssl_ ? co_await write_request(*ssl_, req) : co_await write_request(*tcp_, req);
    if (wec) {
        write_failed = true;
        diag.detail = wec.message();
        close();
        co_return wec == beast::error::timeout ? errc::timeout : errc::connection_closed;
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(opts_.body_limit);
    lowest().expires_after(timeout);
    const error_code rec = ssl_ ? co_await read_response(*ssl_, buffer_, parser)
                                : co_await read_response(*tcp_, buffer_, parser);
    nothing_received = !parser.got_some();
    if (rec) {
        diag.detail = rec.message();
        close();
        if (rec == beast::error::timeout)
            co_return errc::timeout;
        if (rec == http::error::body_limit)
            co_return errc::body_too_large;
        if (rec.category() == make_error_code(http::error::end_of_stream).category() &&
            rec != http::error::end_of_stream && rec != http::error::partial_message)
            co_return errc::bad_response;
        co_return errc::connection_closed;
    }
    lowest().expires_never();
    auto res = parser.release();
    out.status = res.result_int();
    out.headers = std::move(res.base());
    out.body = std::move(res.body());
    if (jar_)
        for (const auto& h : out.headers)
            if (h.name() == http::field::set_cookie)
                (void)jar_->store(request_url, h.value(), cookie_jar::clock::now());
    if (auto enc = out.headers.find(http::field::content_encoding);
        enc != out.headers.end() && text::iequals(enc->value(), "gzip")) {
        std::string plain;
        if (auto gec = gunzip(out.body, plain, opts_.body_limit)) {
            diag.detail = "gzip body: " + gec.message();
            close();
            co_return gec == boost::system::errc::value_too_large ? errc::body_too_large
                                                                  : errc::bad_response;
        }
        out.body = std::move(plain);
        out.headers.erase(http::field::content_encoding);
    }
    if (!res.keep_alive())
        close();
    co_return error_code{};
}

asio::awaitable<error_code> http_connection::async_request(http::verb method, std::string target,
                                                           std::string body,
                                                           const header_list& headers,
                                                           http_response& out, diagnostics& diag,
                                                           std::chrono::milliseconds timeout) {
    diag.clear();
    out = http_response{};
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = open_;
        if (!open_)
            if (auto ec = co_await connect(diag))
                co_return ec;
        bool nothing_received = true, write_failed = false;
        auto ec = co_await exchange(method, target, body, headers, out, diag, timeout,
                                    nothing_received, write_failed);
        if (!ec)
            co_return ec;
        // A kept-alive connection the server had already closed: try once on a fresh one.
        const bool stale = reused && ec == errc::connection_closed && nothing_received;
        if (!stale || !(write_failed || idempotent(method)))
            co_return ec;
    }
    co_return make_error_code(errc::connection_closed);
}

} // namespace sfbridge::net
