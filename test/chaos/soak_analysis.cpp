#include "test/chaos/soak_analysis.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace sfbridge::chaos {

double slope(const std::vector<double>& values, std::size_t from) {
    const std::size_t n = values.size() > from ? values.size() - from : 0;
    if (n < 2)
        return 0;
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < n; ++i) {
        mx += static_cast<double>(i);
        my += values[from + i];
    }
    mx /= static_cast<double>(n);
    my /= static_cast<double>(n);
    double num = 0, den = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double dx = static_cast<double>(i) - mx;
        num += dx * (values[from + i] - my);
        den += dx * dx;
    }
    return den == 0 ? 0 : num / den;
}

double median(std::vector<double> values) {
    if (values.empty())
        return 0;
    const auto mid = values.begin() + static_cast<long>(values.size() / 2);
    std::nth_element(values.begin(), mid, values.end());
    return *mid;
}

namespace {
double mean(const std::vector<double>& v, std::size_t from, std::size_t to) {
    to = std::min(to, v.size());
    if (from >= to)
        return 0;
    return std::accumulate(v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(to),
                           0.0) /
           static_cast<double>(to - from);
}
} // namespace

judgement judge(const series& s) {
    judgement j;
    j.name = s.name;
    const auto& v = s.values;
    if (v.size() < 6)
        return j; // too short to judge
    if (s.latency) {
        const std::size_t third = v.size() / 3;
        j.first = median({v.begin() + 1, v.begin() + static_cast<long>(third) + 1});
        j.last = median({v.end() - static_cast<long>(third), v.end()});
        j.rise = j.last - 2 * j.first;
        j.failed = j.rise > s.slack;
        return j;
    }
    j.first = mean(v, 0, 3);
    j.last = mean(v, v.size() - 3, v.size());
    const std::size_t half = v.size() / 2;
    j.rise = slope(v, half) * static_cast<double>(v.size() - half - 1);
    j.failed = j.rise > std::max(s.slack, s.relative * mean(v, half, v.size()));
    return j;
}

std::string describe(const judgement& j) {
    char line[200];
    std::snprintf(line, sizeof line, "  %-28s first %12.1f  last %12.1f  rise %+12.1f  %s",
                  j.name.c_str(), j.first, j.last, j.rise,
                  j.failed ? "GROWS WITHOUT BOUND" : "bounded");
    return line;
}

} // namespace sfbridge::chaos
