#pragma once

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

} // namespace sfbridge::salesforce
