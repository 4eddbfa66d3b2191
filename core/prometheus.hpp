#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Prometheus's text exposition format, version 0.0.4: what `GET /metrics` answers. Our own small
// writer rather than a client library: sfbridge builds every sample at scrape time from the
// state it keeps anyway (one thread, no registry to lock), and prometheus-cpp is not packaged
// for Debian 12. docs/decisions.md says more.
namespace sfbridge::prometheus {

// A sample's labels, in the order written. Values are escaped; names must be valid.
using labels = std::vector<std::pair<std::string_view, std::string>>;

// Whether `name` is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label name (no colon).
[[nodiscard]] bool valid_metric_name(std::string_view name) noexcept;
[[nodiscard]] bool valid_label_name(std::string_view name) noexcept;

// A value as Prometheus reads it: integers without a fraction or exponent, "+Inf", "-Inf",
// "NaN", otherwise the shortest form that reads back to the same double.
[[nodiscard]] std::string format_value(double v);

// Cumulative buckets with fixed upper bounds (in the metric's base unit, seconds for latency),
// the sum and the count of what was observed.
class histogram {
public:
    explicit histogram(std::vector<double> upper_bounds);
    void observe(double v) noexcept;
    // Adds what `other` observed (the same bounds; others are ignored): a sum across series.
    void merge(const histogram& other) noexcept;
    [[nodiscard]] const std::vector<double>& upper_bounds() const noexcept { return bounds_; }
    // How many observations were <= upper_bounds()[i] (cumulative, as exposed).
    [[nodiscard]] std::uint64_t cumulative(std::size_t i) const noexcept;
    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
    [[nodiscard]] double sum() const noexcept { return sum_; }

private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> counts_; // per bucket, not cumulative
    std::uint64_t count_ = 0;
    double sum_ = 0;
};

// Latency buckets from half a millisecond to a minute, in seconds.
[[nodiscard]] std::vector<double> latency_buckets();
// Counts of rows per batch, from 1 to the largest batch sfbridge writes (max_batch 5000).
[[nodiscard]] std::vector<double> batch_buckets();
// Seconds, finer than latency_buckets: the stages of one change inside sfbridge (50 us up).
[[nodiscard]] std::vector<double> stage_buckets();

// Writes families one after another: family() once, then that family's samples. A name or
// label name that is not valid is a programming error (std::invalid_argument).
class writer {
public:
    // `type`: "counter", "gauge", "histogram" or "untyped". `help` is escaped.
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, const labels& l, double v);
    // A histogram's _bucket, _sum and _count samples, under the family `name`.
    void sample(std::string_view name, const labels& l, const histogram& h);
    [[nodiscard]] const std::string& text() const noexcept { return out_; }

private:
    void series(std::string_view name, const labels& l, std::string_view extra_name,
                std::string_view extra_value);
    std::string out_;
};

} // namespace sfbridge::prometheus
