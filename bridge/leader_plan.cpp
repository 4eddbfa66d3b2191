#include "bridge/leader_plan.hpp"

#include <algorithm>
#include <set>

namespace sfbridge::bridge {

namespace {
// FNV-1a, then a 64-bit finalizer (splitmix64): fixed, unlike std::hash, so that every
// replica's build ranks alike.
std::uint64_t mix(std::uint64_t h) noexcept {
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

void by_weight(std::vector<std::string>& names, const std::string& replica) {
    std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
        const auto wa = leadership_weight(replica, a), wb = leadership_weight(replica, b);
        return wa != wb ? wa > wb : a < b;
    });
}
} // namespace

std::uint64_t leadership_weight(const std::string& replica, const std::string& mapping) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    auto feed = [&](const std::string& s) {
        for (const unsigned char c : s) {
            h ^= c;
            h *= 0x100000001b3ULL;
        }
        h ^= 0xff; // a separator no name holds
        h *= 0x100000001b3ULL;
    };
    feed(replica);
    feed(mapping);
    return mix(h);
}

leader_plan plan_leadership(const std::vector<std::string>& mappings, const replica_view& me,
                            const std::vector<replica_view>& others) {
    leader_plan plan;
    const std::set<std::string> known(mappings.begin(), mappings.end());
    const std::size_t replicas = others.size() + 1;
    plan.share = (known.size() + replicas - 1) / replicas;

    // What I lead that is still a mapping; anything else is let go at once.
    std::vector<std::string> mine;
    for (const auto& m : me.leads) {
        if (known.count(m))
            mine.push_back(m);
        else
            plan.release.push_back(m);
    }
    std::set<std::string> claimed(mine.begin(), mine.end());
    for (const auto& r : others)
        for (const auto& m : r.leads)
            claimed.insert(m);

    if (mine.size() > plan.share) {
        by_weight(mine, me.id);
        plan.release.insert(plan.release.end(), mine.begin() + static_cast<long>(plan.share),
                            mine.end());
        return plan;
    }
    std::vector<std::string> unclaimed;
    for (const auto& m : known)
        if (!claimed.count(m))
            unclaimed.push_back(m);
    by_weight(unclaimed, me.id);
    const std::size_t room = plan.share - mine.size();
    unclaimed.resize(std::min(unclaimed.size(), room));
    plan.acquire = std::move(unclaimed);
    return plan;
}

} // namespace sfbridge::bridge
