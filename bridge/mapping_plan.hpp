#pragma once

#include "mappings/resolve.hpp"
#include "salesforce/push_topics.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

// `sfbridge mappings plan`: what a run would do, from what the database and the org hold now,
// changing nothing. Pure: the command gathers the inputs (bridge/mappings_commands.cpp).
namespace sfbridge::bridge {

struct table_now {
    bool exists = false;
    std::map<std::string, int> columns; // column -> varchar length (0: another type)
    bool loaded = false;                // _sfbridge_state says the initial load is done
    bool reload = false;                // ... with another row filter: it loads again
    std::vector<std::string> backfill;  // ... without these columns: they are back-filled
};

struct mapping_now {
    const mappings::resolved_mapping* m = nullptr;
    table_now table;
    std::optional<std::int64_t> records; // matching records (COUNT()), when it was counted
};

struct org_now {
    std::vector<salesforce::topic_action> topics; // salesforce::plan_push_topics over the org's
    std::vector<std::string> topic_errors;        // ... what it could not plan
    std::optional<std::int64_t> daily_api_max, daily_api_remaining;
};

struct plan_settings {
    std::string schema;
    std::size_t bulk_threshold = 10000; // loads of more records go by Bulk API 2.0
};

// Salesforce API calls a day of a mapping's polling: per poll, the changes query, the deletes
// query where the object has IsDeleted, and with a row filter the query of the window's Ids.
[[nodiscard]] std::int64_t polling_calls_per_day(const mappings::resolved_mapping& m);

// Salesforce API calls a day of a mapping's refresh of formula fields (sfbridge_refresh_seconds)
// over `records` records: a count and a page per 2,000 records, each refresh. 0 without one.
[[nodiscard]] std::int64_t refresh_calls_per_day(const mappings::resolved_mapping& m,
                                                 std::int64_t records);
// Whether a run needs the mapping's records counted (a load, a back-fill, a refresh).
[[nodiscard]] bool needs_count(const mapping_now& x);

// The report: per mapping, its table (create, add, widen, up to date), its PushTopic, its
// initial load or back-fill (records and API), its refresh and its polling; then PushTopics of
// mappings no longer in the file, and the day's API calls against the org's limit.
[[nodiscard]] std::string plan_report(const plan_settings& s, const std::vector<mapping_now>& ms,
                                      const org_now& org);

} // namespace sfbridge::bridge
