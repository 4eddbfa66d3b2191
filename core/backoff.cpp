#include "core/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace sfbridge {

std::chrono::milliseconds backoff_delay(const backoff_policy& p, int failures,
                                        double unit) noexcept {
    const double cap = static_cast<double>(std::max<std::int64_t>(1, p.max.count()));
    const double first = static_cast<double>(std::max<std::int64_t>(1, p.initial.count()));
    // Past 60 doublings every delay is at the cap; pow would only overflow.
    const int exponent = std::clamp(failures - 1, 0, 60);
    double d = std::min(cap, first * std::pow(std::max(1.0, p.multiplier), exponent));
    const double spread = std::clamp(p.jitter, 0.0, 1.0);
    d *= 1.0 - spread + 2.0 * spread * std::clamp(unit, 0.0, 1.0);
    d = std::clamp(d, 1.0, cap);
    return std::chrono::milliseconds(static_cast<std::int64_t>(d));
}

std::chrono::milliseconds backoff::next() noexcept {
    if (failures_ < 1000)
        ++failures_;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    return backoff_delay(policy_, failures_, unit(rng_));
}

} // namespace sfbridge
