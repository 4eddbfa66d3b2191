#include "salesforce/api_usage.hpp"

#include <charconv>

namespace sfbridge::salesforce {

std::optional<limit_info> parse_limit_info(std::string_view header) {
    constexpr std::string_view key = "api-usage=";
    std::size_t at = 0;
    while (true) {
        at = header.find(key, at);
        if (at == std::string_view::npos)
            return std::nullopt;
        // A whole entry: at the start or after a separator (not per-app-api-usage=).
        if (at == 0 || header[at - 1] == ' ' || header[at - 1] == ';' || header[at - 1] == ',')
            break;
        at += key.size();
    }
    std::string_view v = header.substr(at + key.size());
    const auto slash = v.find('/');
    if (slash == std::string_view::npos)
        return std::nullopt;
    limit_info info;
    auto r1 = std::from_chars(v.data(), v.data() + slash, info.used);
    auto r2 = std::from_chars(v.data() + slash + 1, v.data() + v.size(), info.max);
    if (r1.ec != std::errc{} || r1.ptr != v.data() + slash || r2.ec != std::errc{} ||
        r2.ptr == v.data() + slash + 1 || info.used < 0 || info.max < 0)
        return std::nullopt; // a negative count is no count (found by fuzzing)
    return info;
}

std::int64_t api_usage::day_of(std::chrono::system_clock::time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::hours>(t.time_since_epoch()).count() / 24;
}

void api_usage::set_budget(const std::string& tag, std::int64_t calls_per_day) {
    budgets_[tag] = calls_per_day;
}

bool api_usage::allow(const std::string& tag, std::int64_t day) const {
    if (tag.empty())
        return true;
    auto b = budgets_.find(tag);
    if (b == budgets_.end() || b->second <= 0)
        return true; // no budget set, or 0 meaning unlimited
    return calls_today(tag, day) < b->second;
}

void api_usage::record_call(const std::string& tag, std::int64_t day) {
    ++total_;
    auto& c = counters_[tag];
    if (c.day != day)
        c = counter{day, 0};
    ++c.calls;
}

std::int64_t api_usage::calls_today(const std::string& tag, std::int64_t day) const {
    auto it = counters_.find(tag);
    return it == counters_.end() || it->second.day != day ? 0 : it->second.calls;
}

} // namespace sfbridge::salesforce
