// The randomized fault campaign (issue 16): for each seed, sfsim, the test cluster of PostgreSQL
// and the sfbridge executable as deployed, changes from both sides at once under a fault
// schedule drawn from the seed, then quiescence and the invariants. Exits 1 when an invariant
// failed for any seed; `./scripts/chaos --seed N` replays a seed's schedule.
#include "test/chaos/campaign.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <stdexcept>

using namespace sfbridge::chaos;

namespace {

const char* usage = "usage: chaos --sfsim PATH --sfbridge PATH [--seed N] [--seeds K] "
                    "[--seconds S] [--faults F] [--workdir DIR] [--results FILE]\n"
                    "       chaos --sfsim PATH --sfbridge PATH --soak-minutes M [--soak-rows N]\n"
                    "       chaos --plan [--seed N] [--seeds K] [--seconds S] [--faults F]\n"
                    "  (SFBRIDGE_TEST_PG_DSN and SFBRIDGE_TEST_PG_CTL name the test cluster;\n"
                    "  --results appends a line per seed, so a long campaign can be split;\n"
                    "  --plan prints the seeds' schedules and runs nothing)";

struct cli {
    int seeds = 1;
    bool plan_only = false;
    std::string results;
};

campaign_options parse(int argc, char** argv, cli& c) {
    campaign_options o;
    o.seed = std::random_device{}() % 1000000;
    o.workdir = "/tmp/sfbridge-chaos";
    for (int i = 1; i < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--plan") {
            c.plan_only = true;
            --i;
            continue;
        }
        if (i + 1 >= argc)
            throw std::runtime_error(k + " expects a value");
        const std::string v = argv[i + 1];
        if (k == "--seed")
            o.seed = std::stoull(v);
        else if (k == "--seeds")
            c.seeds = std::stoi(v);
        else if (k == "--results")
            c.results = v;
        else if (k == "--soak-minutes")
            o.soak_minutes = std::stol(v);
        else if (k == "--soak-rows")
            o.soak_rows = std::stoul(v);
        else if (k == "--seconds")
            o.seconds = std::stol(v);
        else if (k == "--faults")
            o.faults = std::stoi(v);
        else if (k == "--sfsim")
            o.sfsim = v;
        else if (k == "--sfbridge")
            o.sfbridge = v;
        else if (k == "--workdir")
            o.workdir = v;
        else
            throw std::runtime_error("unknown option " + k);
    }
    if (c.plan_only)
        return o;
    const char* dsn = std::getenv("SFBRIDGE_TEST_PG_DSN");
    const char* ctl = std::getenv("SFBRIDGE_TEST_PG_CTL");
    if (o.sfsim.empty() || o.sfbridge.empty() || !dsn || !ctl)
        throw std::runtime_error(usage);
    o.dsn = dsn;
    o.pg_ctl = ctl;
    return o;
}

} // namespace

int main(int argc, char** argv) {
    try {
        cli c;
        auto o = parse(argc, argv, c);
        const int seeds = c.seeds;
        if (c.plan_only) {
            for (int i = 0; i < seeds; ++i, ++o.seed) {
                std::printf("seed %llu:\n", static_cast<unsigned long long>(o.seed));
                for (const auto& f : campaign_plan(o))
                    std::printf("%s\n", describe(f).c_str());
            }
            return 0;
        }
        std::map<std::string, int> injected;
        std::vector<std::uint64_t> failed;
        for (int i = 0; i < seeds; ++i) {
            auto r = run_campaign(o);
            for (const auto& [k, n] : r.injected)
                injected[k] += n;
            if (!r.passed)
                failed.push_back(o.seed);
            if (!c.results.empty()) {
                std::ofstream out(c.results, std::ios::app);
                out << "seed " << o.seed << (r.passed ? " passed" : " FAILED");
                for (const auto& [k, n] : r.injected)
                    out << " " << k << "=" << n;
                for (const auto& f : r.findings)
                    out << " | " << f.invariant << ": " << f.detail;
                out << "\n";
            }
            ++o.seed;
        }
        std::printf("\n== campaign: %d seeds, %zu failed\n", seeds, failed.size());
        std::printf("faults injected by kind:\n");
        for (const auto& [k, n] : injected)
            std::printf("  %-40s %d\n", k.c_str(), n);
        for (auto s : failed)
            std::printf("FAILED seed %llu: ./scripts/chaos --seed %llu\n",
                        static_cast<unsigned long long>(s), static_cast<unsigned long long>(s));
        return failed.empty() ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "chaos: " << e.what() << "\n";
        return 2;
    }
}
