#include "bridge/stop_signals.hpp"

#include <boost/asio/buffer.hpp>

#include <cerrno>
#include <csignal>
#include <memory>
#include <sys/signalfd.h>
#include <system_error>

namespace sfbridge::bridge {

namespace {
sigset_t stop_set() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    return set;
}

int open_signalfd() {
    const sigset_t set = stop_set();
    const int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        throw std::system_error(errno, std::generic_category(), "signalfd");
    return fd;
}
} // namespace

void stop_signals::block() {
    const sigset_t set = stop_set();
    (void)::sigprocmask(SIG_BLOCK, &set, nullptr);
}

stop_signals::stop_signals(boost::asio::any_io_executor ex) : fd_(ex, open_signalfd()) {}

void stop_signals::start(std::function<void(int)> on_signal) {
    on_signal_ = std::move(on_signal);
    read_next();
}

void stop_signals::cancel() {
    cancelled_ = true;
    boost::system::error_code ignored;
    fd_.cancel(ignored);
}

void stop_signals::read_next() {
    auto info = std::make_shared<signalfd_siginfo>();
    fd_.async_read_some(boost::asio::buffer(info.get(), sizeof(*info)),
                        [this, info](const boost::system::error_code& ec, std::size_t n) {
                            if (ec == boost::asio::error::operation_aborted || cancelled_)
                                return;
                            if (!ec && n == sizeof(*info))
                                on_signal_(static_cast<int>(info->ssi_signo));
                            if (!cancelled_)
                                read_next();
                        });
}

} // namespace sfbridge::bridge
