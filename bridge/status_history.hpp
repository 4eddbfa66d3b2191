#pragma once

#include "bridge/status_snapshot.hpp"
#include "core/prometheus.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

// The status page's charts: one sample a second for the last ten minutes, kept by the HTTP
// endpoint while it serves, so that the page shows them as soon as it opens. Pure: the endpoint
// feeds it snapshots; quantiles come from the change of the latency histograms over a window.
namespace sfbridge::bridge {

// The q-quantile of what `later` observed since `earlier` (same bounds), interpolated within
// its bucket as Prometheus's histogram_quantile does; none when nothing was observed.
[[nodiscard]] std::optional<double> quantile_between(const prometheus::histogram& later,
                                                     const prometheus::histogram& earlier,
                                                     double q);

class status_history {
public:
    explicit status_history(std::size_t capacity = 600, std::size_t window = 60)
        : capacity_(capacity), window_(window) {}
    void add(const status_snapshot& s);
    [[nodiscard]] const std::deque<status_sample>& samples() const noexcept { return samples_; }

private:
    struct totals {
        std::int64_t at_ms = 0;
        prometheus::histogram inbound{prometheus::latency_buckets()};
        prometheus::histogram outbound{prometheus::latency_buckets()};
        double changes = 0;
    };
    std::size_t capacity_, window_;
    std::deque<totals> totals_; // the last window_ + 1
    std::deque<status_sample> samples_;
};

} // namespace sfbridge::bridge
