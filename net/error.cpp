#include "net/error.hpp"

namespace sfbridge::net {
namespace {

class client_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "sfbridge.net"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::bad_url:
            return "the URL cannot be used";
        case errc::resolve_failed:
            return "the host name did not resolve";
        case errc::connect_failed:
            return "could not connect";
        case errc::timeout:
            return "the operation did not finish before its deadline";
        case errc::tls_failed:
            return "the TLS handshake failed";
        case errc::proxy_refused:
            return "the proxy refused the tunnel";
        case errc::connection_closed:
            return "the connection was closed before the exchange completed";
        case errc::body_too_large:
            return "the response body is over the limit";
        case errc::bad_response:
            return "the response could not be read";
        }
        return "unknown sfbridge.net error";
    }
};

class condition_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "sfbridge.net.condition"; }
    std::string message(int) const override { return "retryable network failure"; }
    bool equivalent(const boost::system::error_code& code, int cond) const noexcept override {
        if (cond != static_cast<int>(condition::retryable) || code.category() != client_category())
            return false;
        switch (static_cast<errc>(code.value())) {
        case errc::resolve_failed:
        case errc::connect_failed:
        case errc::timeout:
        case errc::connection_closed:
            return true;
        default:
            return false;
        }
    }
};

} // namespace

const boost::system::error_category& client_category() noexcept {
    static const client_category_impl c;
    return c;
}
const boost::system::error_category& condition_category() noexcept {
    static const condition_category_impl c;
    return c;
}
boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), client_category()};
}
boost::system::error_condition make_error_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

} // namespace sfbridge::net
