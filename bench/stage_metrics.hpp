#pragma once

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

// sfbridge's per-stage histograms (sfbridge_inbound_stage_seconds, bridge/mapping_runtime.hpp)
// as read off its /metrics, and quantiles over the changes between two scrapes.
namespace sfbridge::bench {

// By stage: the buckets' upper bounds and cumulative counts, in order (the last is +Inf),
// summed over the mappings.
using stage_buckets = std::map<std::string, std::vector<std::pair<double, double>>>;

inline stage_buckets parse_stages(const std::string& metrics) {
    stage_buckets out;
    std::istringstream in(metrics);
    std::string line;
    const std::string name = "sfbridge_inbound_stage_seconds_bucket{";
    while (std::getline(in, line)) {
        if (line.rfind(name, 0) != 0)
            continue;
        const auto stage_at = line.find("stage=\"");
        const auto le_at = line.find("le=\"");
        const auto close = line.find("} ");
        if (stage_at == std::string::npos || le_at == std::string::npos ||
            close == std::string::npos)
            continue;
        const std::string stage =
            line.substr(stage_at + 7, line.find('"', stage_at + 7) - stage_at - 7);
        const std::string le = line.substr(le_at + 4, line.find('"', le_at + 4) - le_at - 4);
        const double bound = le == "+Inf" ? 1e300 : std::stod(le);
        const double count = std::stod(line.substr(close + 2));
        // Summed over the mappings: each has its own series, with the same bounds.
        auto& buckets = out[stage];
        const auto it = std::find_if(buckets.begin(), buckets.end(),
                                     [&](const auto& b) { return b.first == bound; });
        if (it == buckets.end())
            buckets.emplace_back(bound, count);
        else
            it->second += count;
    }
    return out;
}

// The q-quantile in seconds of what was observed between `earlier` and `later`, interpolated
// in its bucket as Prometheus's histogram_quantile does; -1 when nothing was.
inline double stage_quantile(const stage_buckets& later, const stage_buckets& earlier,
                             const std::string& stage, double q) {
    const auto l = later.find(stage);
    if (l == later.end() || l->second.empty())
        return -1;
    const auto e = earlier.find(stage);
    auto count = [&](std::size_t i) {
        const double before = e == earlier.end() || i >= e->second.size() ? 0 : e->second[i].second;
        return l->second[i].second - before;
    };
    const double total = count(l->second.size() - 1);
    if (total <= 0)
        return -1;
    const double rank = q * total;
    double lower = 0, below = 0;
    for (std::size_t i = 0; i < l->second.size(); ++i) {
        const double upper = l->second[i].first, n = count(i);
        if (n >= rank) {
            if (upper > 1e299)
                return lower; // in the +Inf bucket: the highest finite bound
            return lower + (upper - lower) * (rank - below) / (n - below);
        }
        lower = upper;
        below = n;
    }
    return lower;
}

} // namespace sfbridge::bench
