#pragma once

#include "test/chaos/invariants.hpp"
#include "test/chaos/plan.hpp"
#include "test/chaos/soak_analysis.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

// One seed of the campaign, from a fresh sfsim and schema to the invariants' verdict.
namespace sfbridge::chaos {

struct campaign_options {
    std::uint64_t seed = 0;
    long seconds = 60; // changes and faults last this long
    int faults = 12;
    long soak_minutes = 0;       // a soak (soak.hpp) of this long instead of a campaign's faults
    std::size_t soak_rows = 300; // the tables' steady size in a soak
    std::string sfsim, sfbridge, workdir, dsn, pg_ctl;
};

struct campaign_result {
    bool passed = false;
    std::vector<judgement> soak;         // a soak's verdict per measure
    std::map<std::string, int> injected; // faults by kind
    std::vector<finding> findings;
};

// The campaign's mappings: no upsert field and a PushTopic; an upsert field and a PushTopic;
// Change Data Capture.
[[nodiscard]] std::vector<object_spec> campaign_objects();
// The seed's fault schedule for these options.
[[nodiscard]] std::vector<fault> campaign_plan(const campaign_options& o);
[[nodiscard]] std::string mapping_file(const std::vector<object_spec>& objects, long budget = 0);

// Runs one seed and prints its report (seed, schedule, changes, findings) to stdout.
campaign_result run_campaign(const campaign_options& o);

} // namespace sfbridge::chaos
