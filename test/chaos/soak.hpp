#pragma once

#include "test/chaos/invariants.hpp"
#include "test/chaos/plan.hpp"
#include "test/chaos/soak_analysis.hpp"
#include "test/chaos/world.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <vector>

// The soak (./scripts/soak --minutes N, issue 16): the campaign's world and workload at a
// steady size, with a fault every minute that leaves the process running (so that its growth
// is measurable over the whole run), sampled every 10 s. The verdict is soak_analysis.hpp's.
namespace sfbridge::chaos {

// One fault a minute, cycling through those that do not restart sfbridge or Postgres.
[[nodiscard]] std::vector<fault> soak_plan(long run_ms);

// What the soak asks of sfbridge for its windows to fill within minutes: the archive, errors
// and conflicts kept about four minutes, tombstones four minutes.
[[nodiscard]] std::vector<std::string> soak_bridge_args();
[[nodiscard]] std::vector<std::string> soak_bridge_env();

// Samples until `until`, every 10 s, into `out` (one series per measure, in a fixed order).
// The probes change a record whose marker starts with "probe-" (the workload leaves those be).
boost::asio::awaitable<void> sample(world& w, const std::string& schema, const object_spec& probe,
                                    std::chrono::steady_clock::time_point until,
                                    std::vector<series>& out);

} // namespace sfbridge::chaos
