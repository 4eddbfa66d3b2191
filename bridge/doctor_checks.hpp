#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

// `sfbridge doctor`'s judgements, pure: each takes what was read from Postgres or Salesforce
// and says OK, WARN or FAIL with what to do. bridge/doctor does the reading and prints them.
namespace sfbridge::bridge::doctor {

enum class level { ok, warn, fail };

struct finding {
    level what = level::ok;
    std::string check;   // "database", "hstore", "PushTopics", ...
    std::string message; // what was found, and for WARN and FAIL what to do
};

// What the database tells about the role and the schema (one query, bridge/doctor.cpp).
struct database_facts {
    std::string role, database, server_version;
    int server_version_num = 150000;
    bool superuser = false;
    bool may_create_in_database = false; // CREATE on the database: a new schema
    bool schema_exists = false;
    bool may_create_in_schema = false;         // CREATE and USAGE on the existing schema
    std::int64_t tables_owned_by_others = 0;   // in the schema, owned by a role not ours
    std::optional<std::string> hstore_version; // installed
    bool hstore_available = false;             // the contrib package is there
    bool may_create_in_public = false;         // hstore goes WITH SCHEMA public
    bool may_set_replication_role = false;     // superuser, or GRANT SET ON PARAMETER (15+)
    bool has_trigger_log = false;              // a Heroku Connect (or sfbridge) schema
    std::vector<std::string> tables;           // the schema's tables, _ tables left out
};
[[nodiscard]] std::vector<finding> judge_database(const database_facts& f,
                                                  const std::string& schema);

// GET /services/data's versions list against the version sfbridge is set to use.
[[nodiscard]] finding judge_api_version(std::string_view versions_json, const std::string& wanted);

// Salesforce's clock minus ours (nullopt: no usable Date header).
[[nodiscard]] finding judge_clock(std::optional<std::int64_t> offset_ms);

// The org's PushTopics (names) against its limit, with the hc_ topics sfbridge will need.
[[nodiscard]] finding judge_push_topics(const std::set<std::string>& existing,
                                        const std::set<std::string>& needed, bool createable,
                                        int limit);

// The Tooling API's PlatformEventChannelMember rows against the objects streamed by CDC.
[[nodiscard]] std::vector<finding> judge_cdc(std::string_view tooling_json,
                                             const std::vector<std::string>& objects);

// /limits: the daily API requests, and the streaming allocations the mappings use.
[[nodiscard]] std::vector<finding> judge_limits(std::string_view limits_json, bool push_topics,
                                                bool cdc);

// One line per finding ("OK    check: message"), then a summary line.
[[nodiscard]] std::string report(const std::vector<finding>& findings);
// 0 when nothing FAILs, else 1.
[[nodiscard]] int exit_code(const std::vector<finding>& findings) noexcept;

} // namespace sfbridge::bridge::doctor
