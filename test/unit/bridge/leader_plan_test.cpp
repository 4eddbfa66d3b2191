#include "bridge/leader_plan.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
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
// another holds is not taken), until nothing changes for a while. Returns the rounds taken.
// `files`: a replica's own mapping list where it differs from `maps`. `lag`: each replica sees
// the others' leads as they were at the end of the previous round (their heartbeats).
int settle(const std::vector<std::string>& maps,
           std::map<std::string, std::set<std::string>>& leads, bool lag = false,
           const std::map<std::string, std::vector<std::string>>& files = {}) {
    std::map<std::string, std::map<std::string, int>> unclaimed;
    int quiet = 0;
    for (int round = 1; round <= 40; ++round) {
        bool changed = false;
        const auto seen = leads; // the heartbeats of the round before
        for (auto& [id, mine] : leads) {
            bridge::replica_view me{id, {mine.begin(), mine.end()}};
            std::vector<bridge::replica_view> others;
            for (const auto& [other, theirs] : lag ? seen : leads)
                if (other != id)
                    others.push_back({other, {theirs.begin(), theirs.end()}});
            const auto own = files.find(id);
            const auto plan = bridge::plan_leadership(own == files.end() ? maps : own->second, me,
                                                      others, unclaimed[id]);
            std::map<std::string, int> rounds;
            for (const auto& m : plan.unclaimed)
                rounds[m] = unclaimed[id][m] + 1;
            unclaimed[id] = std::move(rounds);
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
        // Settled: nothing changed for longer than a mapping may stay unclaimed.
        quiet = changed ? 0 : quiet + 1;
        if (quiet > bridge::rescue_after_rounds)
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
        // The counts differ by one at most: 10 / replicas each, one more for 10 % replicas.
        const auto n = static_cast<std::size_t>(replicas);
        std::size_t extra = 0;
        for (const auto& [id, mine] : leads) {
            CHECK(mine.size() >= 10 / n);
            CHECK(mine.size() <= 10 / n + 1);
            extra += mine.size() > 10 / n ? 1 : 0;
        }
        CHECK(extra == 10 % n);
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

TEST_CASE("three replicas settle on 4, 3 and 3, the extra one staying where it is, and a "
          "mapping no longer in the file is let go",
          "[unit][leader]") {
    const auto maps = mappings(10);
    const bridge::replica_view a{"a", {"Object_1__c", "Object_2__c", "Object_3__c", "Object_4__c"}},
        b{"b", {"Object_5__c", "Object_6__c", "Object_7__c", "Object_8__c"}},
        c{"c", {"Object_9__c", "Object_10__c"}};
    // 4 + 4 + 2: a keeps its 4 (ranked first among the two with most), b gives one up, c waits
    // for it.
    auto plan = bridge::plan_leadership(maps, a, {b, c});
    CHECK(plan.share == 4);
    CHECK(plan.release.empty());
    plan = bridge::plan_leadership(maps, b, {a, c});
    CHECK(plan.share == 3);
    CHECK(plan.release.size() == 1);
    plan = bridge::plan_leadership(maps, c, {a, b});
    CHECK(plan.share == 3);
    CHECK(plan.acquire.empty()); // nothing unclaimed yet
    // 4 + 3 + 3 stays: the one with four is first by count, whatever its id.
    const bridge::replica_view z{"z", {"Object_1__c", "Object_2__c", "Object_3__c", "Object_4__c"}},
        b3{"b", {"Object_5__c", "Object_6__c", "Object_7__c"}},
        c3{"c", {"Object_8__c", "Object_9__c", "Object_10__c"}};
    plan = bridge::plan_leadership(maps, z, {b3, c3});
    CHECK(plan.share == 4);
    CHECK(plan.release.empty());
    plan = bridge::plan_leadership(maps, b3, {z, c3});
    CHECK(plan.share == 3);
    CHECK(plan.release.empty());
    CHECK(plan.acquire.empty());
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

TEST_CASE("a replica joining three ways settles on 4, 3 and 3 with no hand-over beyond the "
          "needed, even when each sees the others a round late",
          "[unit][leader]") {
    const auto maps = mappings(10);
    for (const bool lag : {false, true}) {
        INFO("heartbeats a round late: " << lag);
        std::map<std::string, std::set<std::string>> leads;
        leads["a"];
        REQUIRE(settle(maps, leads, lag) > 0);
        leads["b"];
        REQUIRE(settle(maps, leads, lag) > 0);
        CHECK(leads["a"].size() == 5);
        CHECK(leads["b"].size() == 5);
        const auto a_before = leads["a"], b_before = leads["b"];
        leads["c"];
        REQUIRE(settle(maps, leads, lag) > 0);
        CHECK(led(leads) == 10);
        std::multiset<std::size_t> sizes;
        for (const auto& [id, mine] : leads)
            sizes.insert(mine.size());
        CHECK(sizes == std::multiset<std::size_t>{3, 3, 4});
        // a and b only gave up mappings (3 in all went to c), none moved between them.
        std::size_t kept = 0;
        for (const auto& m : leads["a"])
            kept += a_before.count(m);
        for (const auto& m : leads["b"])
            kept += b_before.count(m);
        CHECK(kept == 7);
    }
}

TEST_CASE("a mapping only one replica's file names still gets a leader (a rolling deploy)",
          "[unit][leader]") {
    const auto ten = mappings(10), eleven = mappings(11);
    std::map<std::string, std::set<std::string>> leads;
    leads["a"];
    leads["b"];
    // a has the new file (eleven mappings), b the old one; b ranks first on a tie.
    REQUIRE(settle(ten, leads, false, {{"a", eleven}}) > 0);
    CHECK(led(leads) == 11);
    CHECK(leads["a"].count("Object_11__c") == 1);
    const auto diff = static_cast<long>(leads["a"].size()) - static_cast<long>(leads["b"].size());
    CHECK(std::abs(diff) <= 1);
}

TEST_CASE("for any number of replicas and mappings, joins and departures settle with every "
          "mapping led and the counts a floor or a ceiling apart",
          "[unit][leader]") {
    for (int n = 0; n <= 13; ++n)
        for (int replicas = 1; replicas <= 5; ++replicas)
            for (const bool lag : {false, true}) {
                INFO(n << " mappings, " << replicas << " replicas, late views: " << lag);
                const auto maps = mappings(n);
                std::map<std::string, std::set<std::string>> leads;
                // They join one at a time, then the first leaves.
                for (int r = 0; r < replicas; ++r) {
                    leads["r" + std::to_string(r)];
                    REQUIRE(settle(maps, leads, lag) > 0);
                }
                for (int pass = 0; pass < 2; ++pass) {
                    CHECK(led(leads) == static_cast<std::size_t>(n));
                    const auto live = leads.size();
                    for (const auto& [id, mine] : leads) {
                        CHECK(mine.size() >= static_cast<std::size_t>(n) / live);
                        CHECK(mine.size() <= (static_cast<std::size_t>(n) + live - 1) / live);
                    }
                    if (leads.size() == 1)
                        break;
                    leads.erase(leads.begin());
                    REQUIRE(settle(maps, leads, lag) > 0);
                }
            }
}
