#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>

namespace sfbridge::test {

// An HTTP CONNECT proxy on 127.0.0.1 for tests: it answers 200 and relays bytes both ways, or
// answers 403 to every CONNECT when told to refuse. It counts the tunnels it opened.
class connect_proxy {
public:
    explicit connect_proxy(boost::asio::io_context& io);
    ~connect_proxy();
    [[nodiscard]] std::uint16_t port() const;
    void refuse(bool on) noexcept;
    [[nodiscard]] int tunnels() const noexcept;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace sfbridge::test
