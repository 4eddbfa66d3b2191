#include "core/replace_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace sfbridge {

namespace {

bool write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const auto n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace

bool replace_file(const std::string& path, const std::string& text, std::string& error) {
    std::error_code ec;
    const auto target = std::filesystem::weakly_canonical(path, ec);
    const std::string real = ec ? path : target.string();
    const std::string tmp = real + ".sfbridge-new";
    mode_t mode = 0644;
    if (struct stat st{}; ::stat(real.c_str(), &st) == 0)
        mode = st.st_mode & 07777;
    const auto failed = [&](const std::string& what, int fd) {
        const int saved = errno;
        if (fd >= 0)
            ::close(fd);
        ::unlink(tmp.c_str());
        error = what + ": " + std::strerror(saved);
        return false;
    };
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return failed("cannot create " + tmp, -1);
    if (::fchmod(fd, mode) != 0 || !write_all(fd, text) || ::fsync(fd) != 0)
        return failed("cannot write " + tmp, fd);
    if (::close(fd) != 0)
        return failed("cannot write " + tmp, -1);
    if (::rename(tmp.c_str(), real.c_str()) != 0)
        return failed("cannot replace " + real, -1);
    // The rename is durable once the directory is.
    const auto dir = std::filesystem::path(real).parent_path();
    const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
    return true;
}

} // namespace sfbridge
