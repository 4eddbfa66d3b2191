#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>

namespace sfbridge::test {

// A TCP proxy on 127.0.0.1 for fault tests (after userver's chaos.TcpGate): it forwards to a
// target port until told to black-hole traffic (a network cut: connections stay open, nothing
// passes) or to drop every connection (a reset).
class tcp_gate {
public:
    tcp_gate(boost::asio::io_context& io, std::uint16_t target_port);
    ~tcp_gate();
    tcp_gate(const tcp_gate&) = delete;
    tcp_gate& operator=(const tcp_gate&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept;
    void set_blackhole(bool on) noexcept;
    void drop_all() noexcept;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace sfbridge::test
