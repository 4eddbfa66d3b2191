#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

// What must hold once the campaign has quiesced (faults cleared, changes stopped, sfbridge
// caught up). Pure: the driver reads sfsim's records and the tables, these compare them.
namespace sfbridge::chaos {

// One mapped object and the role of each of its fields in the campaign.
struct object_spec {
    std::string object;       // Salesforce name
    std::string table;        // Postgres table (lower case)
    std::string marker;       // set once at creation ("app-N" or "sf-N"), never changed
    std::string shared;       // changed from both sides (real conflicts)
    std::string app_only;     // changed only by the app: its last value must win
    std::string sf_only;      // changed only in Salesforce (long text, NUL, emoji)
    std::string upsert_field; // "" when the mapping has none
    bool cdc = false;         // streamed by Change Data Capture rather than a PushTopic
    [[nodiscard]] std::vector<std::string> fields() const {
        return {marker, shared, app_only, sf_only};
    }
};

using values = std::map<std::string, std::optional<std::string>>; // by Salesforce field name

struct sim_record {
    std::string id;
    bool deleted = false;
    values fields;
    std::string created, modified; // CreatedDate, LastModifiedDate: shown for duplicates
};

struct table_row {
    std::optional<std::string> sfid;
    long long id = 0; // the table's id column
    values fields;
};

struct finding {
    std::string invariant; // which one failed
    std::string detail;    // the records involved
};

// A value as it must arrive in Postgres: NUL removed (Postgres text cannot hold it; sfbridge
// strips it and notes the record), and an empty string the same as no value.
[[nodiscard]] std::string comparable(const std::optional<std::string>& v);

// The table holds exactly sfsim's live records, field by field, and nothing else.
[[nodiscard]] std::vector<finding> compare_table(const object_spec& spec,
                                                 const std::vector<sim_record>& sim,
                                                 const std::vector<table_row>& rows);

// Every app INSERT (by its marker) became exactly one Salesforce record, deleted or not; none
// for an insert whose trigger-log row ended FAILED.
[[nodiscard]] std::vector<finding> check_inserts(const object_spec& spec,
                                                 const std::set<std::string>& app_markers,
                                                 const std::set<std::string>& failed_markers,
                                                 const std::vector<sim_record>& sim);

// For records that still exist, the app-only field holds the app's last committed value (by
// marker); a field nobody but the app changes has no conflict to lose.
[[nodiscard]] std::vector<finding>
check_app_values(const object_spec& spec, const std::map<std::string, std::string>& last_app_value,
                 const std::vector<sim_record>& sim);

// For records that still exist and whose shared field (changed from both sides) does not hold
// the app's last committed value: Salesforce's side wrote it after the app did, or a conflict
// row (winner salesforce, `lost_to_salesforce` as "sfid|column") says why the app's lost.
struct shared_write {
    std::string value;
    long long at_ms = 0;
};
[[nodiscard]] std::vector<finding> check_shared(const object_spec& spec,
                                                const std::map<std::string, shared_write>& last_app,
                                                const std::map<std::string, long long>& sf_wrote_at,
                                                const std::set<std::string>& lost_to_salesforce,
                                                const std::vector<sim_record>& sim);

} // namespace sfbridge::chaos
