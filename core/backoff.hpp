#pragma once

#include <chrono>
#include <cstdint>
#include <random>

// Exponential backoff with a cap and jitter: the one retry delay every loop uses (the stream,
// polls, loads, the write-back, Salesforce calls, the CometD session). Never a hot loop (the
// first delay is never zero), never a thundering herd (each delay is spread by +-jitter).
namespace sfbridge {

struct backoff_policy {
    std::chrono::milliseconds initial{200};
    std::chrono::milliseconds max{30000};
    double multiplier = 2.0;
    double jitter = 0.25; // each delay is spread over [1 - jitter, 1 + jitter] of itself
};

// The delay before retry number `failures` (1 = after the first failure): initial *
// multiplier^(failures - 1), capped, then spread by `unit` (a number in [0, 1): 0.5 keeps it
// as it is) and capped again. Pure: the caller brings the randomness.
[[nodiscard]] std::chrono::milliseconds backoff_delay(const backoff_policy& p, int failures,
                                                      double unit) noexcept;

// A retry loop's state: next() after each failure, reset() after a success.
class backoff {
public:
    explicit backoff(backoff_policy p = {}, std::uint64_t seed = std::random_device{}())
        : policy_(p), rng_(seed) {}

    [[nodiscard]] std::chrono::milliseconds next() noexcept;
    void reset() noexcept { failures_ = 0; }
    [[nodiscard]] int failures() const noexcept { return failures_; }
    [[nodiscard]] const backoff_policy& policy() const noexcept { return policy_; }

private:
    backoff_policy policy_;
    std::mt19937_64 rng_;
    int failures_ = 0;
};

} // namespace sfbridge
