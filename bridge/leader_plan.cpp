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

namespace {
std::size_t held(const std::set<std::string>& known, const replica_view& r) {
    return static_cast<std::size_t>(std::count_if(
        r.leads.begin(), r.leads.end(), [&](const std::string& m) { return known.count(m); }));
}
} // namespace

// mappings / replicas each (the floor), and one more for the first (mappings % replicas)
// replicas ranked by how many they lead, counted up to floor + 1 (most first, then by id). The
// cap makes the ranking blind to what a replica is about to release: the others' counts come
// from heartbeats a round old, and a replica still showing 5 of 10 mappings after a third one
// joined ranks like one showing 4, so each replica keeps the extra one it already has.
std::size_t quota_of(const std::set<std::string>& known, const replica_view& me,
                     const std::vector<replica_view>& others) {
    const std::size_t replicas = others.size() + 1, floor = known.size() / replicas;
    const std::size_t mine = std::min(held(known, me), floor + 1);
    std::size_t ahead = 0; // replicas ranked before me
    for (const auto& r : others) {
        const std::size_t theirs = std::min(held(known, r), floor + 1);
        ahead += theirs > mine || (theirs == mine && r.id < me.id) ? 1 : 0;
    }
    return floor + (ahead < known.size() % replicas ? 1 : 0);
}

leader_plan plan_leadership(const std::vector<std::string>& mappings, const replica_view& me,
                            const std::vector<replica_view>& others,
                            const std::map<std::string, int>& unclaimed_rounds) {
    leader_plan plan;
    const std::set<std::string> known(mappings.begin(), mappings.end());
    const std::size_t replicas = others.size() + 1, floor = known.size() / replicas,
                      ceil = floor + (known.size() % replicas ? 1 : 0);
    plan.share = quota_of(known, me, others);

    // What I lead that is still a mapping; anything else is let go at once.
    std::vector<std::string> mine;
    for (const auto& m : me.leads) {
        if (known.count(m))
            mine.push_back(m);
        else
            plan.release.push_back(m);
    }
    std::set<std::string> claimed(mine.begin(), mine.end());
    bool starving = false; // another replica under the floor: it is under its share in any view
    for (const auto& r : others) {
        claimed.insert(r.leads.begin(), r.leads.end());
        starving = starving || held(known, r) < floor;
    }
    // Unclaimed, the long-unclaimed first (see below), then by rank.
    std::vector<std::string> fresh, stale;
    for (const auto& m : known) {
        if (claimed.count(m))
            continue;
        plan.unclaimed.push_back(m);
        const auto it = unclaimed_rounds.find(m);
        (it != unclaimed_rounds.end() && it->second + 1 >= rescue_after_rounds ? stale : fresh)
            .push_back(m);
    }
    by_weight(fresh, me.id);
    by_weight(stale, me.id);

    // Over the share: given up when another replica needs them, or past the ceiling anyway.
    // At the share, one is given up to make room for a long-unclaimed mapping while another
    // replica starves: that one cannot take it (its mapping file lacks it, in a rolling
    // deploy), and can take the one given up.
    std::size_t keep = mine.size();
    if (mine.size() > plan.share && (starving || mine.size() > ceil))
        keep = plan.share;
    else if (!mine.empty() && mine.size() >= plan.share && starving && !stale.empty())
        keep = mine.size() - 1;
    if (keep < mine.size()) {
        by_weight(mine, me.id);
        plan.release.insert(plan.release.end(), mine.begin() + static_cast<long>(keep), mine.end());
        return plan;
    }
    // Under it: unclaimed mappings up to the share; past it up to the ceiling, those unclaimed
    // for rescue_after_rounds rounds (the replica whose share they are does not take them: its
    // file differs, or it is stuck), so that no mapping stays without a leader.
    const std::size_t room = plan.share > mine.size() ? plan.share - mine.size() : 0;
    for (const auto& m : stale)
        if (plan.acquire.size() < room || mine.size() + plan.acquire.size() < ceil)
            plan.acquire.push_back(m);
    for (const auto& m : fresh)
        if (plan.acquire.size() < room)
            plan.acquire.push_back(m);
    return plan;
}

} // namespace sfbridge::bridge
