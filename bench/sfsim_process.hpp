#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sched.h>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

// Benchmarks run the sfsim executable pinned to one core, apart from the measured process.
namespace sfbridge::bench {

inline void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)sched_setaffinity(0, sizeof set, &set);
}

class sfsim_process {
public:
    sfsim_process(const std::string& path, int cpu, std::vector<std::string> extra_args) {
        int fds[2];
        if (pipe(fds) != 0)
            throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ == 0) {
            pin_to_cpu(cpu);
            dup2(fds[1], 1);
            close(fds[0]);
            std::vector<std::string> args{path, "--listen", "127.0.0.1:0", "--log-level", "warn"};
            args.insert(args.end(), extra_args.begin(), extra_args.end());
            std::vector<char*> argv;
            for (auto& a : args)
                argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(path.c_str(), argv.data());
            std::perror("exec sfsim");
            _exit(127);
        }
        close(fds[1]);
        std::string line;
        char c;
        while (read(fds[0], &c, 1) == 1 && c != '\n')
            line.push_back(c);
        close(fds[0]);
        const auto colon = line.rfind(':');
        if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos)
            throw std::runtime_error("sfsim did not start: " + line);
        port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
    }
    ~sfsim_process() {
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
    }
    sfsim_process(const sfsim_process&) = delete;
    sfsim_process& operator=(const sfsim_process&) = delete;
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

private:
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

} // namespace sfbridge::bench
