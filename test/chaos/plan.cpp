#include "test/chaos/plan.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>

namespace sfbridge::chaos {

std::string_view name(fault_kind k) noexcept {
    static constexpr std::array<std::string_view, fault_kinds> names{
        "expire_tokens", "forget_clients", "lose_retention",  "drop_connections",
        "fail_share",    "lock_share",     "stall",           "answer_dropped",
        "answer_500",    "answer_502",     "answer_late",     "api_budget",
        "clock_skew",    "pg_terminate",   "pg_restart_fast", "pg_restart_crash",
        "pg_cut",        "pg_reset",       "pg_timeout",      "app_trigger",
        "sigkill",       "sigterm"};
    return names[static_cast<std::size_t>(k)];
}

namespace {

// A uniform integer in [lo, hi], from the seed's stream only (std::uniform_int_distribution
// differs between standard libraries; the schedule must not).
long draw(std::mt19937_64& rng, long lo, long hi) {
    return lo + static_cast<long>(rng() % static_cast<std::uint64_t>(hi - lo + 1));
}

// The parameter and duration each kind takes.
void shape(fault& f, std::mt19937_64& rng, const plan_options& o) {
    switch (f.kind) {
    case fault_kind::fail_share:
    case fault_kind::lock_share:
        f.value = draw(rng, 5, 40);
        f.duration_ms = draw(rng, 1000, 8000);
        break;
    case fault_kind::stall:
        f.duration_ms = draw(rng, 500, 5000);
        break;
    case fault_kind::answer_dropped:
    case fault_kind::answer_500:
    case fault_kind::answer_502:
        f.value = draw(rng, 1, 3); // answers lost
        f.duration_ms = 10000;     // then the fault is cleared, if still armed
        break;
    case fault_kind::answer_late:
        f.value = draw(rng, 1, 2);
        f.duration_ms = 10000;
        break;
    case fault_kind::api_budget:
        f.duration_ms = draw(rng, 1000, 6000);
        break;
    case fault_kind::clock_skew:
        // Within what the poll overlap and the clock offset must absorb, both directions.
        f.value = draw(rng, -120000, 120000);
        break;
    case fault_kind::pg_cut:
        f.duration_ms = draw(rng, 1000, 8000);
        break;
    case fault_kind::pg_timeout:
        f.value = draw(rng, 1, 30); // statement_timeout in ms
        f.duration_ms = draw(rng, 1000, 8000);
        break;
    case fault_kind::app_trigger:
        f.duration_ms = draw(rng, 2000, 10000);
        if (!o.objects.empty())
            f.object = o.objects[static_cast<std::size_t>(
                draw(rng, 0, static_cast<long>(o.objects.size()) - 1))];
        break;
    case fault_kind::sigkill:
    case fault_kind::sigterm:
        f.duration_ms = draw(rng, 200, 3000); // down for this long
        break;
    default:
        break;
    }
    if (!o.objects.empty() &&
        (f.kind == fault_kind::answer_dropped || f.kind == fault_kind::answer_500 ||
         f.kind == fault_kind::answer_502 || f.kind == fault_kind::answer_late)) {
        const long pick = draw(rng, 0, static_cast<long>(o.objects.size()));
        if (pick < static_cast<long>(o.objects.size()))
            f.object = o.objects[static_cast<std::size_t>(pick)];
    }
}

} // namespace

std::vector<fault> make_plan(std::uint64_t seed, const plan_options& o) {
    std::mt19937_64 rng(seed);
    std::vector<fault> out;
    for (int i = 0; i < o.faults; ++i) {
        fault f;
        f.kind = static_cast<fault_kind>(draw(rng, 0, fault_kinds - 1));
        shape(f, rng, o);
        // Starts in the first 85% of the run and ends before it does.
        const long latest = std::max<long>(0, o.run_ms * 85 / 100);
        f.at_ms = draw(rng, 0, latest);
        if (f.kind == fault_kind::clock_skew)
            f.at_ms = 0; // a skew is constant: set before sfbridge starts
        f.duration_ms = std::min(f.duration_ms, std::max<long>(0, o.run_ms - f.at_ms - 1));
        out.push_back(f);
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const fault& a, const fault& b) { return a.at_ms < b.at_ms; });
    return out;
}

std::string describe(const fault& f) {
    char head[64];
    std::snprintf(head, sizeof head, "%7.1f s  ", static_cast<double>(f.at_ms) / 1000.0);
    std::string s = head + std::string(name(f.kind));
    if (f.value != 0)
        s += " value=" + std::to_string(f.value);
    if (!f.object.empty())
        s += " object=" + f.object;
    if (f.duration_ms > 0) {
        char d[32];
        std::snprintf(d, sizeof d, " for %.1f s", static_cast<double>(f.duration_ms) / 1000.0);
        s += d;
    }
    return s;
}

} // namespace sfbridge::chaos
