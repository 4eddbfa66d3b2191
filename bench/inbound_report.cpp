#include "bench/bridge_process.hpp"
#include "bench/inbound_figures.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace sfbridge::bench::inbound {

void report(const options& o, figures& fig) {
    const double p50 = percentile(fig.latencies, 0.50), p95 = percentile(fig.latencies, 0.95),
                 p99 = percentile(fig.latencies, 0.99),
                 mx = fig.latencies.empty()
                          ? 0
                          : *std::max_element(fig.latencies.begin(), fig.latencies.end());
    std::printf(
        "figure                                   value        baseline (same run)     ratio\n");
    std::printf("initial load, Bulk 2.0 -> Postgres   %9.0f rows/s  plain COPY %9.0f rows/s  "
                "%5.2fx  (%ld rows; the first after %ld ms)\n",
                fig.load_rows_s, fig.copy_rows_s, fig.load_rows_s / fig.copy_rows_s, fig.loaded,
                fig.load_wait_ms);
    std::printf(
        "latency at %ld/s for %ld s (ms)      p50 %.2f  p95 %.2f  p99 %.2f  max %.1f  (%zu rows)\n",
        o.rate, o.seconds, p50, p95, p99, mx, fig.latencies.size());
    std::printf("  in sfbridge, by stage (ms)          queue p50 %.3f p99 %.3f, batch p50 %.3f "
                "p99 %.3f, commit p50 %.3f p99 %.3f\n",
                fig.stages["queue"].first, fig.stages["queue"].second, fig.stages["batch"].first,
                fig.stages["batch"].second, fig.stages["commit"].first,
                fig.stages["commit"].second);
    std::printf("throughput, %ld mixed changes     %9.0f changes/s  COPY+merge ceiling %9.0f /s  "
                "%5.2fx  (sfsim emitted %.0f/s)\n",
                o.changes, fig.throughput, fig.ceiling, fig.throughput / fig.ceiling, fig.sim_emit);
    std::printf("sfbridge peak RSS                    %9.1f MB\n",
                static_cast<double>(fig.peak_rss_kb) / 1024.0);
    if (!fig.sweep.empty()) {
        // The baseline of each step's CPU per change is the first step's, in the same run.
        const auto& first = fig.sweep.front();
        std::printf("rate sweep, %ld s a step on the %ld-row table (CPU per change generated; "
                    "ratio: to the %ld/s step)\n",
                    o.sweep_seconds, fig.loaded, first.rate);
        std::printf("  rate/s   rows   p50 ms  p99 ms  max ms   sfbridge us (ratio)  "
                    "Postgres us (ratio)\n");
        for (const auto& st : fig.sweep) {
            const double top = st.latencies.empty()
                                   ? 0
                                   : *std::max_element(st.latencies.begin(), st.latencies.end());
            std::printf("  %6ld %6zu %8.2f %7.2f %7.1f   %9.1f (%5.2fx)  %9.1f (%5.2fx)\n", st.rate,
                        st.latencies.size(), percentile(st.latencies, 0.50),
                        percentile(st.latencies, 0.99), top, st.sfbridge_cpu_us,
                        st.sfbridge_cpu_us / first.sfbridge_cpu_us, st.postgres_cpu_us,
                        st.postgres_cpu_us / first.postgres_cpu_us);
        }
    }
    std::ofstream js(o.json);
    js << "{\"initial_load_rows_per_s\":" << fig.load_rows_s
       << ",\"plain_copy_rows_per_s\":" << fig.copy_rows_s << ",\"rows_loaded\":" << fig.loaded
       << ",\"first_rows_after_ms\":" << fig.load_wait_ms << ",\"latency_ms\":{\"p50\":" << p50
       << ",\"p95\":" << p95 << ",\"p99\":" << p99 << ",\"max\":" << mx
       << ",\"samples\":" << fig.latencies.size() << "},\"stages_ms\":{";
    for (const char* stage : {"queue", "batch", "commit"})
        js << (stage[0] == 'q' ? "" : ",") << "\"" << stage
           << "\":{\"p50\":" << fig.stages[stage].first << ",\"p99\":" << fig.stages[stage].second
           << "}";
    js << "}"
       << ",\"throughput_changes_per_s\":" << fig.throughput
       << ",\"ceiling_changes_per_s\":" << fig.ceiling << ",\"sfsim_emit_per_s\":" << fig.sim_emit
       << ",\"peak_rss_mb\":" << static_cast<double>(fig.peak_rss_kb) / 1024.0 << ",\"sweep\":[";
    for (std::size_t i = 0; i < fig.sweep.size(); ++i) {
        const auto& st = fig.sweep[i];
        js << (i ? "," : "") << "{\"rate\":" << st.rate << ",\"rows\":" << st.latencies.size()
           << ",\"p50_ms\":" << percentile(st.latencies, 0.50)
           << ",\"p99_ms\":" << percentile(st.latencies, 0.99)
           << ",\"sfbridge_cpu_us_per_change\":" << st.sfbridge_cpu_us
           << ",\"postgres_cpu_us_per_change\":" << st.postgres_cpu_us << "}";
    }
    js << "]}\n";
}

} // namespace sfbridge::bench::inbound
