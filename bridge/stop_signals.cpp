#include "bridge/stop_signals.hpp"

#include <cerrno>
#include <csignal>
#include <sys/signalfd.h>
#include <system_error>
#include <unistd.h>

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

// Waits for the descriptor to be readable and reads in the handler, not before: a signal is
// consumed only when it is acted on, so one that comes after cancel() (or while a restart's
// deadline fires) stays pending for the new image.
void stop_signals::read_next() {
    fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                   [this](const boost::system::error_code& ec) {
                       if (ec || cancelled_)
                           return;
                       signalfd_siginfo info{};
                       const auto n = ::read(fd_.native_handle(), &info, sizeof info);
                       if (n == static_cast<ssize_t>(sizeof info))
                           on_signal_(static_cast<int>(info.ssi_signo));
                       if (!cancelled_)
                           read_next();
                   });
}

} // namespace sfbridge::bridge
