#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sched.h>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
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
            prctl(PR_SET_PDEATHSIG, SIGKILL); // a benchmark that crashes leaves no child behind
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

// A top-level member of a JSON object as text (strings as they are, integers in decimal,
// booleans as true/false); "" when absent.
inline std::string json_field(const std::string& json, const char* key) {
    simdjson::dom::parser p;
    simdjson::dom::element e;
    if (p.parse(json).get(e))
        return {};
    auto v = e[key];
    std::string_view s;
    if (!v.get_string().get(s))
        return std::string(s);
    std::int64_t i;
    if (!v.get_int64().get(i))
        return std::to_string(i);
    bool b;
    if (!v.get_bool().get(b))
        return b ? "true" : "false";
    return {};
}

// Events in a Bayeux reply, counted by their replay ids without parsing (the benchmarks
// measure sfsim or the client, not this reader).
inline std::size_t count_events(const std::string& body) {
    std::size_t n = 0;
    for (auto pos = body.find("\"replayId\""); pos != std::string::npos;
         pos = body.find("\"replayId\"", pos + 10))
        ++n;
    return n;
}

// The options every sfsim benchmark takes.
struct bench_options {
    std::string sfsim;
    long events = 0; // --events (or --rows for the first extra count)
    long rows = 0;
    int sfsim_cpu = 0;
    int cpu = 1;
};

// Parses "--sfsim PATH --events N --rows N --sfsim-cpu K --cpu K"; exits with usage on a
// missing --sfsim or an unknown option.
inline bench_options parse_bench_options(int argc, char** argv, const char* usage, long events,
                                         long rows) {
    bench_options o;
    o.events = events;
    o.rows = rows;
    for (int i = 1; i < argc; i += 2) {
        const std::string f = argv[i];
        if (i + 1 >= argc) {
            std::fprintf(stderr, "%s needs a value\n%s\n", f.c_str(), usage);
            std::exit(2);
        }
        const std::string v = argv[i + 1];
        if (f == "--sfsim")
            o.sfsim = v;
        else if (f == "--events")
            o.events = std::stol(v);
        else if (f == "--rows")
            o.rows = std::stol(v);
        else if (f == "--sfsim-cpu")
            o.sfsim_cpu = std::stoi(v);
        else if (f == "--cpu")
            o.cpu = std::stoi(v);
        else {
            std::fprintf(stderr, "unknown option %s\n%s\n", f.c_str(), usage);
            std::exit(2);
        }
    }
    if (o.sfsim.empty()) {
        std::fprintf(stderr, "%s\n", usage);
        std::exit(2);
    }
    return o;
}

// Pins this process, starts sfsim on its own core, and runs the benchmark's coroutine to its
// exit code.
inline int run_against_sfsim(
    const bench_options& o, std::vector<std::string> sfsim_args,
    const std::function<boost::asio::awaitable<int>(boost::asio::io_context&, std::uint16_t)>&
        task) {
    pin_to_cpu(o.cpu);
    sfsim_process sfsim(o.sfsim, o.sfsim_cpu, std::move(sfsim_args));
    boost::asio::io_context io(1);
    int rc = 1;
    boost::asio::co_spawn(io, task(io, sfsim.port()), [&](std::exception_ptr e, int r) {
        if (e)
            std::rethrow_exception(e);
        rc = r;
    });
    io.run();
    return rc;
}

} // namespace sfbridge::bench
