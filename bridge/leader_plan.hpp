#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

// Which mappings a replica should lead, when several sfbridge processes share one mapping file
// and database (issue 19). Pure: the caller brings what the replicas' heartbeats say
// (_sfbridge_replicas) and acts on the plan with advisory locks, which stay the truth: a plan
// only says which locks to try and which to give up.
//
//  - Each live replica has a share: mappings / live replicas, and one more for the first
//    (mappings % live replicas) of them ranked by how many they lead now (most first, then by
//    id). So the counts differ by one at most (three replicas and ten mappings: 4, 3, 3), a
//    replica that joins finds some to take, and the extra ones stay where they are.
//  - A replica under its share takes unclaimed mappings; one over it releases the surplus
//    when another replica is under the floor (mappings / replicas) or it is over the ceiling
//    (the floor rounded up). A mapping unclaimed for three rounds is taken by any replica under
//    the ceiling (one at it makes room while another starves): its share's owner does not take
//    it (a mapping file that differs, in a rolling deploy). So every mapping has a leader, the
//    counts settle between floor and ceiling, and a hand-over (a stream resubscription and a
//    write-back pause) happens only where needed.
//  - Which ones: by rendezvous hashing (each replica ranks every mapping by a hash of the pair),
//    so replicas that look at the same moment try different mappings instead of racing for
//    the same lock, and a replica gives up the ones it ranks lowest.
namespace sfbridge::bridge {

struct replica_view {
    std::string id;
    std::vector<std::string> leads; // object names, as its last heartbeat said
};

struct leader_plan {
    std::vector<std::string> acquire;   // try these locks, best first
    std::vector<std::string> release;   // hand these over (stop, commit, unlock)
    std::vector<std::string> unclaimed; // led by no live replica (count the rounds they stay so)
    std::size_t share = 0;
};

// `mappings`: every mapping's object name. `me`: this replica's id and what it leads now (its
// locks). `others`: the other live replicas. `unclaimed_rounds`: for each mapping unclaimed in
// this replica's last rounds, in how many of them in a row.
[[nodiscard]] leader_plan plan_leadership(const std::vector<std::string>& mappings,
                                          const replica_view& me,
                                          const std::vector<replica_view>& others,
                                          const std::map<std::string, int>& unclaimed_rounds = {});

// A mapping unclaimed this many rounds in a row is taken past a replica's share.
inline constexpr int rescue_after_rounds = 3;

// The rank of a mapping for a replica (higher: preferred); stable across processes.
[[nodiscard]] std::uint64_t leadership_weight(const std::string& replica,
                                              const std::string& mapping) noexcept;

} // namespace sfbridge::bridge
