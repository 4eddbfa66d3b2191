#include "bridge/cli.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace sfbridge::bridge;

namespace {
cli parse(std::vector<const char*> words) {
    words.insert(words.begin(), "sfbridge");
    return parse_args(static_cast<int>(words.size()), words.data());
}
settings base() {
    settings s;
    s.values["DATABASE_URL"] = "postgres://localhost/app";
    s.values["SALESFORCE_CLIENT_ID"] = "id";
    s.values["SALESFORCE_USERNAME"] = "u@example.com";
    s.values["SALESFORCE_PASSWORD"] = "pw";
    s.values["SALESFORCE_CLIENT_SECRET"] = "secret";
    return s;
}
} // namespace

TEST_CASE("arguments split into words and --options", "[unit][cli]") {
    const auto c = parse({"mappings", "validate", "--mappings", "m.json", "-h"});
    CHECK(c.positional == std::vector<std::string>{"mappings", "validate"});
    CHECK(c.options.at("mappings") == "m.json");
    CHECK(c.has("help"));
    CHECK_THROWS_WITH(parse({"run", "--mappings"}), "option --mappings needs a value");
}

TEST_CASE("number options are positive whole numbers", "[unit][cli]") {
    const auto c = parse({"run", "--max-batch", "250", "--bad", "12x", "--zero", "0"});
    CHECK(number_option(c, "max-batch", 5) == 250);
    CHECK(number_option(c, "absent", 5) == 5);
    CHECK_THROWS_WITH(number_option(c, "bad", 5), "--bad expects a positive number, not 12x");
    CHECK_THROWS_WITH(number_option(c, "zero", 5), "--zero expects a positive number, not 0");
}

TEST_CASE("an option wins over the setting, which wins over the default", "[unit][cli]") {
    auto s = base();
    CHECK(option_or_setting(parse({"status"}), "schema", s, "SFBRIDGE_SCHEMA", "salesforce") ==
          "salesforce");
    s.values["SFBRIDGE_SCHEMA"] = "from_env";
    CHECK(option_or_setting(parse({"status"}), "schema", s, "SFBRIDGE_SCHEMA", "salesforce") ==
          "from_env");
    CHECK(option_or_setting(parse({"status", "--schema", "from_cli"}), "schema", s,
                            "SFBRIDGE_SCHEMA", "salesforce") == "from_cli");
}

TEST_CASE("the engine's options come from settings and the command line", "[unit][cli]") {
    auto s = base();
    s.values["SFBRIDGE_SCHEMA"] = "env_schema";
    s.values["SFBRIDGE_WRITE_ALGORITHM"] = "merged";
    const auto cfg =
        engine_options(s, parse({"run", "--max-batch", "10", "--load-connections", "1",
                                 "--poll-interval-ms", "250", "--bulk-threshold", "7"}));
    CHECK(cfg.database_url == "postgres://localhost/app");
    CHECK(cfg.schema == "env_schema");
    CHECK(cfg.max_batch == 10);
    CHECK(cfg.load_connections == 1);
    CHECK(cfg.bulk_threshold == 7);
    CHECK(cfg.poll_interval == std::chrono::milliseconds(250));
    CHECK(cfg.writes == write_algorithm::merged);
    CHECK(cfg.load_batch == 20000);

    const auto defaults = engine_options(base(), parse({"run"}));
    CHECK(defaults.schema == "salesforce");
    CHECK_FALSE(defaults.poll_interval);
    CHECK(defaults.writes == write_algorithm::ordered);
    CHECK(defaults.retention == std::chrono::hours(24 * 31));
    CHECK(defaults.archive_after == std::chrono::seconds(30));

    auto kept = base();
    kept.values["SFBRIDGE_RETENTION_DAYS"] = "0.5";
    const auto half = engine_options(kept, parse({"run"}));
    CHECK(half.retention == std::chrono::hours(12));
    CHECK(half.archive_after == std::chrono::seconds(30));
    CHECK(engine_options(kept, parse({"run", "--archive-after", "120"})).archive_after ==
          std::chrono::seconds(120));
    kept.values["SFBRIDGE_RETENTION_DAYS"] = "0.0002"; // 17 s
    CHECK(engine_options(kept, parse({"run"})).archive_after ==
          std::chrono::seconds(8)); // archived before it is pruned
    CHECK_THROWS_WITH(engine_options(base(), parse({"run", "--archive-after", "0"})),
                      "--archive-after (SFBRIDGE_ARCHIVE_AFTER) expects a positive number, not 0");
    CHECK(engine_options(kept, parse({"run", "--retention-days", "2"})).retention ==
          std::chrono::hours(48));
    CHECK_THROWS_WITH(engine_options(base(), parse({"run", "--retention-days", "0"})),
                      "--retention-days (SFBRIDGE_RETENTION_DAYS) expects a positive number of "
                      "days, not 0");
    CHECK_THROWS_WITH(engine_options(base(), parse({"run", "--retention-days", "a week"})),
                      "--retention-days (SFBRIDGE_RETENTION_DAYS) expects a positive number of "
                      "days, not a week");

    CHECK_THROWS_WITH(engine_options(base(), parse({"run", "--load-connections", "3"})),
                      "--load-connections expects 1 or 2, not 3");
    auto wrong = base();
    wrong.values["SFBRIDGE_WRITE_ALGORITHM"] = "fastest";
    CHECK_THROWS_WITH(engine_options(wrong, parse({"run"})),
                      "SFBRIDGE_WRITE_ALGORITHM must be ordered or merged, not fastest");
    CHECK_THROWS_WITH(load_mappings(parse({"run"})), "--mappings FILE is required");
    CHECK_THROWS_WITH(load_mappings(parse({"run", "--mappings", "/nonexistent/m.json"})),
                      "cannot read /nonexistent/m.json");
}

TEST_CASE("a replica's name and its Postgres connections come from the environment or options",
          "[unit][cli]") {
    ::setenv("SFBRIDGE_REPLICA_ID", "pod-7", 1);
    ::setenv("SFBRIDGE_PG_CONNECTIONS", "5", 1);
    auto s = base();
    s.load_environment();
    ::unsetenv("SFBRIDGE_REPLICA_ID");
    ::unsetenv("SFBRIDGE_PG_CONNECTIONS");
    const auto cfg = engine_options(s, parse({"run"}));
    CHECK(cfg.replica_id == "pod-7");
    CHECK(cfg.pg_connections == 5);
    const auto opts =
        engine_options(base(), parse({"run", "--replica-id", "node-a", "--pg-connections", "12"}));
    CHECK(opts.replica_id == "node-a");
    CHECK(opts.pg_connections == 12);
    const auto defaults = engine_options(base(), parse({"run"}));
    CHECK(defaults.replica_id.empty()); // the engine makes host-pid-suffix
    CHECK(defaults.pg_connections == 8);
    CHECK_THROWS_WITH(engine_options(base(), parse({"run", "--pg-connections", "2"})),
                      Catch::Contains("at least 3"));
    CHECK_THROWS_WITH(engine_options(base(), parse({"run", "--replica-id", "a b"})),
                      Catch::Contains("--replica-id"));
}
