#include "bridge/status_history.hpp"

namespace sfbridge::bridge {

std::optional<double> quantile_between(const prometheus::histogram& later,
                                       const prometheus::histogram& earlier, double q) {
    const auto& le = later.upper_bounds();
    // Histograms only grow; one that went down (it never does today) tells nothing.
    if (later.count() <= earlier.count() || earlier.upper_bounds() != le)
        return std::nullopt;
    for (std::size_t i = 0; i < le.size(); ++i)
        if (later.cumulative(i) < earlier.cumulative(i))
            return std::nullopt;
    const auto count = later.count() - earlier.count();
    const double rank = q * static_cast<double>(count);
    double below = 0;
    for (std::size_t i = 0; i < le.size(); ++i) {
        const auto upto = static_cast<double>(later.cumulative(i) - earlier.cumulative(i));
        if (upto >= rank) {
            const double lo = i == 0 ? 0 : le[i - 1];
            const double in_bucket = upto - below;
            return lo + (le[i] - lo) * (in_bucket > 0 ? (rank - below) / in_bucket : 1);
        }
        below = upto;
    }
    return le.empty() ? std::nullopt : std::optional<double>(le.back()); // past the last bound
}

void status_history::add(const status_snapshot& s) {
    totals t;
    t.at_ms = s.now_ms;
    for (const auto& m : s.mappings) {
        t.inbound.merge(m.inbound_latency); // every mapping summed
        // Streamed changes only: a poll reads its overlap again, so what it fetched is no
        // measure of what changed.
        t.changes += static_cast<double>(m.stats.events);
    }
    for (const auto& [object, h] : s.writes.latency)
        t.outbound.merge(h);
    t.changes += static_cast<double>(s.writes.sent + s.writes.failed);
    status_sample x;
    x.at_ms = s.now_ms;
    if (!totals_.empty()) {
        const auto& oldest = totals_.front();
        const auto& previous = totals_.back();
        x.inbound_p50 = quantile_between(t.inbound, oldest.inbound, 0.5);
        x.inbound_p99 = quantile_between(t.inbound, oldest.inbound, 0.99);
        x.outbound_p50 = quantile_between(t.outbound, oldest.outbound, 0.5);
        x.outbound_p99 = quantile_between(t.outbound, oldest.outbound, 0.99);
        const double seconds = static_cast<double>(t.at_ms - previous.at_ms) / 1000.0;
        // A counter that went down (never, short of a restart) counts as no change.
        if (seconds > 0 && t.changes >= previous.changes)
            x.changes_per_second = (t.changes - previous.changes) / seconds;
    }
    totals_.push_back(std::move(t));
    while (totals_.size() > window_) // the next sample looks back window_ seconds
        totals_.pop_front();
    samples_.push_back(x);
    while (samples_.size() > capacity_)
        samples_.pop_front();
}

} // namespace sfbridge::bridge
