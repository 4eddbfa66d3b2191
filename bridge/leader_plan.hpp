#pragma once

#include <cstdint>
#include <string>
#include <vector>

// Which mappings a replica should lead, when several sfbridge processes share one mapping file
// and database (issue 19). Pure: the caller brings what the replicas' heartbeats say
// (_sfbridge_replicas) and acts on the plan with advisory locks, which stay the truth: a plan
// only says which locks to try and which to give up.
//
//  - Each live replica takes at most its share, ceil(mappings / live replicas), so the
//    mappings spread evenly and a replica that joins finds some to take.
//  - A replica over its share (one joined) releases the surplus; one under it takes unclaimed
//    mappings. Nothing is released for a smaller imbalance: a hand-over costs a stream
//    resubscription and a write-back pause, so churn is avoided.
//  - Which ones: by rendezvous hashing (each replica ranks every mapping by a hash of the pair),
//    so replicas that look at the same moment try different mappings instead of racing for
//    the same lock, and a replica gives up the ones it ranks lowest.
namespace sfbridge::bridge {

struct replica_view {
    std::string id;
    std::vector<std::string> leads; // object names, as its last heartbeat said
};

struct leader_plan {
    std::vector<std::string> acquire; // try these locks, best first
    std::vector<std::string> release; // hand these over (stop, commit, unlock)
    std::size_t share = 0;
};

// `mappings`: every mapping's object name. `me`: this replica's id and what it leads now (its
// locks). `others`: the other live replicas.
[[nodiscard]] leader_plan plan_leadership(const std::vector<std::string>& mappings,
                                          const replica_view& me,
                                          const std::vector<replica_view>& others);

// The rank of a mapping for a replica (higher: preferred); stable across processes.
[[nodiscard]] std::uint64_t leadership_weight(const std::string& replica,
                                              const std::string& mapping) noexcept;

} // namespace sfbridge::bridge
