#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

// bench/inbound's options and figures, and their report (bench/inbound_report.cpp).
namespace sfbridge::bench::inbound {

struct options {
    std::string sfsim, sfbridge, json = "inbound.json";
    long rows = 1000000, rate = 500, seconds = 30, changes = 1000000;
    std::vector<long> sweep{500, 1000, 2000, 5000};
    long sweep_seconds = 20;
};

// One step of the rate sweep: latencies, and the CPU time sfbridge and its Postgres sessions
// spent per change generated.
struct step {
    long rate = 0, generated = 0;
    std::vector<double> latencies;
    double sfbridge_cpu_us = 0, postgres_cpu_us = 0;
};

struct figures {
    double load_rows_s = 0, copy_rows_s = 0;
    long load_wait_ms = 0;
    long loaded = 0;
    std::vector<double> latencies;
    // Of the same changes, p50 and p99 of each stage inside sfbridge (ms), from its /metrics.
    std::map<std::string, std::pair<double, double>> stages;
    std::vector<step> sweep;
    double throughput = 0, ceiling = 0, sim_emit = 0;
    long peak_rss_kb = 0;
};

// Prints the table and writes the figures as JSON to o.json.
void report(const options& o, figures& fig);

} // namespace sfbridge::bench::inbound
