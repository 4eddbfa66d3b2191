#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

// API usage as Salesforce reports it (Sforce-Limit-Info: api-usage=18/5000) and as sfbridge
// counts it itself, per UTC day and per mapping, with each mapping's daily budget
// (sf_max_daily_api_calls). Pure bookkeeping: the REST client feeds it, metrics read it.
namespace sfbridge::salesforce {

struct limit_info {
    std::int64_t used = 0;
    std::int64_t max = 0;
};

// Reads "api-usage=18/5000" (other entries such as api-bursts are ignored); nullopt when the
// header has no api-usage entry.
[[nodiscard]] std::optional<limit_info> parse_limit_info(std::string_view header);

class api_usage {
public:
    // Days are UTC days since the epoch; the counters start over when the day changes.
    static std::int64_t day_of(std::chrono::system_clock::time_point t) noexcept;

    void set_budget(const std::string& tag, std::int64_t calls_per_day);
    // Whether a call for `tag` fits in its budget today (untagged calls always fit).
    [[nodiscard]] bool allow(const std::string& tag, std::int64_t day) const;
    void record_call(const std::string& tag, std::int64_t day);
    void record_org_usage(limit_info info) noexcept { org_ = info; }

    [[nodiscard]] std::int64_t calls_today(const std::string& tag, std::int64_t day) const;
    [[nodiscard]] std::int64_t total_calls() const noexcept { return total_; }
    [[nodiscard]] std::optional<limit_info> org_usage() const noexcept { return org_; }

private:
    struct counter {
        std::int64_t day = 0;
        std::int64_t calls = 0;
    };
    std::map<std::string, std::int64_t> budgets_;
    std::map<std::string, counter> counters_;
    std::optional<limit_info> org_;
    std::int64_t total_ = 0;
};

// The back-off after 403 REQUEST_LIMIT_EXCEEDED: no call for `initial`, doubled (up to `most`)
// each time the limit is hit again by a call sent after the last back-off began, and reset by
// a success of such a call. The answers of calls already in flight when the limit was first
// hit belong to the same episode: with four connections in flight they would otherwise double
// it three times over (30 s became 240 s), long after the org allowed calls again.
class limit_backoff {
public:
    using clock = std::chrono::steady_clock;
    limit_backoff(std::chrono::milliseconds initial, std::chrono::milliseconds most)
        : initial_(initial), most_(most) {}

    [[nodiscard]] bool blocked(clock::time_point now) const noexcept { return now < until_; }
    // A call sent at `sent` was answered REQUEST_LIMIT_EXCEEDED at `now`.
    void limited(clock::time_point sent, clock::time_point now) noexcept {
        if (sent < began_ && wait_.count() > 0)
            return; // in flight when this episode began
        wait_ = std::clamp(wait_ * 2, initial_, most_);
        began_ = now;
        until_ = now + wait_;
    }
    // A call sent at `sent` succeeded.
    void succeeded(clock::time_point sent) noexcept {
        if (sent >= began_)
            wait_ = std::chrono::milliseconds(0);
    }
    [[nodiscard]] std::chrono::milliseconds wait() const noexcept { return wait_; }

private:
    std::chrono::milliseconds initial_, most_;
    std::chrono::milliseconds wait_{0};
    clock::time_point began_{}, until_{};
};

} // namespace sfbridge::salesforce
