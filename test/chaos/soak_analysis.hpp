#pragma once

#include <string>
#include <vector>

// The soak's verdict, pure: samples taken every 10 s of what must stay bounded (memory, file
// descriptors, connections, backlogs, table rows past their retention) and of latency; a
// series "grows without bound" when the straight line fitted over the run's second half (after
// warm-up, the retention windows full) rises by more than its slack over that half, and
// latency "drifts" when the median of the last third is more than twice that of the first third
// (after the first sample) plus the slack.
namespace sfbridge::chaos {

struct series {
    std::string name;
    double slack = 0;           // rise allowed over the second half (noise, one batch)
    bool latency = false;       // judged by drift, not by slope
    double relative = 0;        // or this share of the second half's mean, when larger
    std::vector<double> values; // one per sample
};

// Least-squares slope per sample of values[from, end).
[[nodiscard]] double slope(const std::vector<double>& values, std::size_t from);
[[nodiscard]] double median(std::vector<double> values);

struct judgement {
    std::string name;
    double first = 0, last = 0; // mean of the first and last three samples (latency: medians)
    double rise = 0;            // fitted over the second half (latency: last - 2 x first)
    bool failed = false;
};
[[nodiscard]] judgement judge(const series& s);

// One line per series: "rss_kb  first 41234  last 41900  rise +120 over the 2nd half  ok".
[[nodiscard]] std::string describe(const judgement& j);

} // namespace sfbridge::chaos
