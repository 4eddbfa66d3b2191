#include "bridge/leader_plan.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace bridge = sfbridge::bridge;

namespace {
std::vector<std::string> mappings(int n) {
    std::vector<std::string> out;
    for (int i = 1; i <= n; ++i)
        out.push_back("Object_" + std::to_string(i) + "__c");
    return out;
}

// Replicas planning in turn, each acting on its plan as the advisory locks allow (a lock
// another holds is not taken), until a whole round changes nothing. Returns the rounds taken.
int settle(const std::vector<std::string>& maps,
           std::map<std::string, std::set<std::string>>& leads) {
    for (int round = 1; round <= 20; ++round) {
        bool changed = false;
        for (auto& [id, mine] : leads) {
            bridge::replica_view me{id, {mine.begin(), mine.end()}};
            std::vector<bridge::replica_view> others;
            for (const auto& [other, theirs] : leads)
                if (other != id)
                    others.push_back({other, {theirs.begin(), theirs.end()}});
            const auto plan = bridge::plan_leadership(maps, me, others);
            for (const auto& m : plan.release)
                changed = mine.erase(m) > 0 || changed;
            for (const auto& m : plan.acquire) {
                bool held = false;
                for (const auto& [other, theirs] : leads)
                    held = held || theirs.count(m) > 0;
                if (!held) {
                    mine.insert(m);
                    changed = true;
                }
            }
        }
        if (!changed)
            return round;
    }
    return -1;
}

std::size_t led(const std::map<std::string, std::set<std::string>>& leads) {
    std::set<std::string> all;
    for (const auto& [id, mine] : leads)
        all.insert(mine.begin(), mine.end());
    return all.size();
}
} // namespace

TEST_CASE("a lone replica leads every mapping", "[unit][leader]") {
    const auto maps = mappings(10);
    const auto plan = bridge::plan_leadership(maps, {"a", {}}, {});
    CHECK(plan.share == 10);
    CHECK(plan.acquire.size() == 10);
    CHECK(plan.release.empty());
}

TEST_CASE("replicas share the mappings evenly, each at most its share", "[unit][leader]") {
    const auto maps = mappings(10);
    for (int replicas : {2, 3, 4, 10, 12}) {
        INFO(replicas << " replicas");
        std::map<std::string, std::set<std::string>> leads;
        for (int r = 0; r < replicas; ++r)
            leads["replica-" + std::to_string(r)];
        CHECK(settle(maps, leads) > 0);
        CHECK(led(leads) == 10); // every mapping has a leader
        const std::size_t share =
            (10 + static_cast<std::size_t>(replicas) - 1) / static_cast<std::size_t>(replicas);
        for (const auto& [id, mine] : leads)
            CHECK(mine.size() <= share);
    }
}

TEST_CASE("a replica that joins is given a share, and one that dies leaves its share to others",
          "[unit][leader]") {
    const auto maps = mappings(10);
    std::map<std::string, std::set<std::string>> leads;
    leads["a"];
    REQUIRE(settle(maps, leads) > 0);
    CHECK(leads["a"].size() == 10);

    leads["b"]; // joins
    auto plan =
        bridge::plan_leadership(maps, {"a", {leads["a"].begin(), leads["a"].end()}}, {{"b", {}}});
    CHECK(plan.release.size() == 5); // a gives up what it ranks lowest
    CHECK(plan.acquire.empty());
    REQUIRE(settle(maps, leads) > 0);
    CHECK(leads["a"].size() == 5);
    CHECK(leads["b"].size() == 5);

    leads.erase("a"); // dies: its heartbeat goes stale and its locks with its session
    REQUIRE(settle(maps, leads) > 0);
    CHECK(leads["b"].size() == 10);
}

TEST_CASE("a small imbalance is left alone, a mapping no longer in the file is let go",
          "[unit][leader]") {
    const auto maps = mappings(10);
    // 3 replicas: share 4; 4 + 4 + 2 is even enough.
    auto plan = bridge::plan_leadership(
        maps, {"c", {"Object_9__c", "Object_10__c"}},
        {{"a", {"Object_1__c", "Object_2__c", "Object_3__c", "Object_4__c"}},
         {"b", {"Object_5__c", "Object_6__c", "Object_7__c", "Object_8__c"}}});
    CHECK(plan.share == 4);
    CHECK(plan.acquire.empty());
    CHECK(plan.release.empty());
    plan = bridge::plan_leadership(maps, {"a", {"Object_1__c", "Gone__c"}}, {});
    CHECK(plan.release == std::vector<std::string>{"Gone__c"});
    CHECK(plan.acquire.size() == 9);
}

TEST_CASE("replicas rank the mappings differently, the same way every time", "[unit][leader]") {
    CHECK(bridge::leadership_weight("a", "Contact") == bridge::leadership_weight("a", "Contact"));
    CHECK(bridge::leadership_weight("a", "Contact") != bridge::leadership_weight("b", "Contact"));
    // The separator: ("ab", "c") and ("a", "bc") are different pairs.
    CHECK(bridge::leadership_weight("ab", "c") != bridge::leadership_weight("a", "bc"));
    const auto maps = mappings(10);
    const auto a = bridge::plan_leadership(maps, {"replica-a", {}}, {{"replica-b", {}}});
    const auto b = bridge::plan_leadership(maps, {"replica-b", {}}, {{"replica-a", {}}});
    CHECK(a.acquire != b.acquire); // each tries its own first
}
