#include "bridge/restart.hpp"

#include "core/log.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace sfbridge::bridge {

namespace {
constexpr const char* listener_variable = "SFBRIDGE_HANDED_OVER_HTTP_FD";
constexpr const char* import_variable = "SFBRIDGE_APPLYING_IMPORT";
std::vector<std::string>& arguments() {
    static std::vector<std::string> args;
    return args;
}
} // namespace

void remember_arguments(int argc, char** argv) {
    arguments().assign(argv, argv + argc);
}

namespace {
// Every descriptor from 3 on closes on exec: sessions, sockets and files of this image, whether
// or not their owners asked for close-on-exec (Asio's sockets do not). Without close_range's
// flag (Linux before 5.11, some seccomp profiles), one by one.
void close_on_exec_from_3() {
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return;
    std::vector<int> fds;
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec)) {
        int fd = -1;
        const auto name = it->path().filename().string();
        if (std::from_chars(name.data(), name.data() + name.size(), fd).ec == std::errc{} &&
            fd >= 3)
            fds.push_back(fd);
    }
    for (const int fd : fds)
        (void)::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

} // namespace

void restart_process(int listener) {
    close_on_exec_from_3();
    // Below 3 (the process was started with standard streams closed), the new image would take
    // it for one of them: moved up.
    if (listener >= 0 && listener < 3) {
        const int moved = ::fcntl(listener, F_DUPFD, 3);
        ::close(listener);
        listener = moved;
    }
    ::unsetenv(listener_variable);
    if (listener >= 0 && ::fcntl(listener, F_SETFD, 0) == 0)
        ::setenv(listener_variable, std::to_string(listener).c_str(), 1);
    ::setenv(import_variable, "1", 1);
    std::vector<char*> argv;
    for (auto& a : arguments())
        argv.push_back(a.data());
    argv.push_back(nullptr);
    log::info("sfbridge", "restarting to apply the imported mappings");
    ::execv("/proc/self/exe", argv.data());
    log::error("sfbridge", "the restart to apply the imported mappings failed; exiting",
               {{"error", std::strerror(errno)}});
    std::_Exit(2);
}

int take_handed_over_listener() {
    const char* v = std::getenv(listener_variable);
    int fd = -1;
    if (v != nullptr) {
        const std::string_view text(v);
        const auto r = std::from_chars(text.data(), text.data() + text.size(), fd);
        if (r.ec != std::errc{} || r.ptr != text.data() + text.size() || fd < 3)
            fd = -1;
        ::unsetenv(listener_variable);
    }
    return fd;
}

bool take_applying_import() {
    const bool set = std::getenv(import_variable) != nullptr;
    ::unsetenv(import_variable);
    return set;
}

} // namespace sfbridge::bridge
