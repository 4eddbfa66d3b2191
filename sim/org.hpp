#pragma once

#include "sim/schema.hpp"
#include "sim/values.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// The simulated org's data: records of every object in the schema, in memory, with the
// validation Salesforce applies on writes and a notification for every change (streaming
// and CDC listen to it).
namespace sfbridge::sim {

// A per-record or per-request error, as Salesforce reports it.
struct sf_error {
    std::string code; // statusCode (per record) or errorCode (per request)
    std::string message;
    std::vector<std::string> fields;
};

struct record {
    std::string id; // 18 characters
    bool deleted = false;
    // Only the fields that hold a value, sorted by field index.
    std::vector<std::pair<int, value>> fields;

    [[nodiscard]] const value& get(int field) const noexcept;
    void set(int field, value v);
};

struct field_value {
    int field;
    value v;
};

enum class change_type { created, updated, deleted, undeleted };
[[nodiscard]] std::string_view to_string(change_type t) noexcept;

struct change {
    const object_def* object = nullptr;
    const record* rec = nullptr; // the record after the change
    change_type type = change_type::created;
    std::vector<int> changed_fields; // for updates: the fields whose value changed
    std::int64_t commit_ms = 0;
    bool bulk = false; // made through a Bulk-API-like path: no PushTopic events
    std::string transaction_key;
};

// A rule that makes Salesforce reject a record (FIELD_CUSTOM_VALIDATION_EXCEPTION) when a field
// holds a value, so tests can make writes fail on purpose.
struct validation_rule {
    std::string object;
    std::string field;
    std::string equals; // compared case-insensitively with the field's text
    std::string message;
};

struct write_options {
    bool bulk = false;
    std::string transaction_key; // shared by the records of one request
};

class org {
public:
    using listener = std::function<void(const change&)>;
    // Decides whether a write to this record id fails with UNABLE_TO_LOCK_ROW (fault injection).
    using lock_check = std::function<bool(std::string_view id)>;

    org(const schema& s, std::uint64_t seed);

    [[nodiscard]] const schema& objects() const noexcept { return schema_; }
    void add_listener(listener l) { listeners_.push_back(std::move(l)); }
    void set_lock_check(lock_check c) { lock_check_ = std::move(c); }
    // Extra validation of writes to one object (PushTopic's query rules, say); it runs after
    // the field checks. `existing` is null on create.
    using validator = std::function<bool(const object_def&, const record* existing,
                                         const std::vector<field_value>&, sf_error&)>;
    void set_validator(std::string object, validator v) {
        validators_[to_lower(object)] = std::move(v);
    }
    std::vector<validation_rule>& validation_rules() noexcept { return rules_; }

    // Returns the new id, or an error.
    std::string create(const object_def& o, std::vector<field_value> in, const write_options& w,
                       sf_error& err);
    bool update(const object_def& o, std::string_view id, std::vector<field_value> in,
                const write_options& w, sf_error& err);
    bool remove(const object_def& o, std::string_view id, const write_options& w, sf_error& err);
    bool undelete(const object_def& o, std::string_view id, const write_options& w, sf_error& err);

    // Dry runs of create and update: the checks without the write, for allOrNone requests.
    bool check_create(const object_def& o, const std::vector<field_value>& in, sf_error& err);
    bool check_update(const object_def& o, std::string_view id, const std::vector<field_value>& in,
                      sf_error& err);

    // Records whose external-id field equals `key` (case-insensitively), not deleted.
    [[nodiscard]] std::vector<const record*> find_by_field(const object_def& o, int field,
                                                           std::string_view key) const;
    [[nodiscard]] const record* get(const object_def& o, std::string_view id) const noexcept;
    // The object an id belongs to, by key prefix.
    [[nodiscard]] const object_def* object_of(std::string_view id) const noexcept;
    // Every record of an object, deleted ones included (callers filter).
    [[nodiscard]] const std::vector<std::unique_ptr<record>>& records(const object_def& o) const;

    // Deleted records with their deletion time, for the deleted/ resource.
    struct deletion {
        std::string id;
        std::int64_t deleted_ms;
    };
    [[nodiscard]] std::vector<deletion> deletions(const object_def& o) const;

    // Milliseconds since the epoch on the org's clock (the machine's plus the offset), never
    // going backwards.
    std::int64_t now_ms() noexcept;
    // Runs the org's clock this far from the machine's (PUT /__sim/clock), so that tests see a
    // Salesforce whose clock is not the client's. Setting it lets the clock go back once, as a
    // clock set back does.
    void set_clock_offset(std::int64_t ms) noexcept {
        clock_offset_ms_ = ms;
        last_ms_ = 0;
    }
    // What the org's /limits shows for a limit other than DailyApiRequests, as set by PUT
    // /__sim/limits (Max, Remaining); the shipped defaults when unset.
    std::map<std::string, std::pair<std::int64_t, std::int64_t>>& limit_overrides() noexcept {
        return limit_overrides_;
    }
    // The objects selected for Change Data Capture (PUT /__sim/cdc); nullopt: every object, the
    // default. Only selected objects raise change events.
    std::optional<std::set<std::string>>& cdc_selection() noexcept { return cdc_selection_; }
    [[nodiscard]] bool cdc_selected(std::string_view object) const {
        return !cdc_selection_ || cdc_selection_->contains(to_lower(object));
    }
    // After a field was added or changed at run time (sim/schema_edit.hpp): which fields are
    // computed is read again, the field's stored values are converted from `old_type` when
    // its type changed, and a formula or roll-up is computed for every record, without
    // touching SystemModstamp or raising an event (as Salesforce does).
    void field_changed(const object_def& o, int field, std::optional<field_type> old_type);

    [[nodiscard]] std::string user_id() const { return user_id_; }
    [[nodiscard]] std::string org_id() const { return org_id_; }
    void reset();

private:
    struct table {
        std::vector<std::unique_ptr<record>> rows;
        std::unordered_map<std::string, record*> by_id15;
        std::unordered_map<std::string, std::int64_t> deleted_at; // id -> ms
    };
    table& table_of(const object_def& o);
    // The record if the id is well formed, exists and is not deleted; otherwise the error.
    record* live_record(const object_def& o, std::string_view id, sf_error& err);
    // Whether the lock fault takes this record (and the error if so).
    bool locked(std::string_view id, sf_error& err);
    const table* find_table(const object_def& o) const;
    bool check_values(const object_def& o, const std::vector<field_value>& in, bool creating,
                      const record* existing, sf_error& err);
    void notify(const object_def& o, const record& r, change_type t, std::vector<int> changed,
                std::int64_t ms, const write_options& w);
    void stamp(const object_def& o, record& r, std::int64_t ms, bool creating);
    // Computed fields (org_computed.cpp). The record's formulas, with the indexes of those whose
    // value changed added to `changed`:
    void compute_formulas(const object_def& o, record& r, std::vector<int>* changed);
    // The parents whose roll-ups a record of `o` counts in (their ids, 15 characters).
    [[nodiscard]] std::vector<std::string> rollup_parents(const object_def& o,
                                                          const record& r) const;
    // A new record's own roll-ups (over no children yet).
    void compute_own_rollups(const object_def& o, record& r);
    // Computes those parents' roll-ups again.
    void update_rollups(const object_def& child, const std::vector<std::string>& parents);
    [[nodiscard]] value rollup_value(const object_def& parent, const field_def& f,
                                     const record& r) const;

    struct rollup_ref {
        const object_def* parent;
        int field;
        const object_def* child;
        int via;
        int summed; // -1 for COUNT
    };
    std::unordered_map<const object_def*, std::vector<int>> formulas_;
    std::vector<rollup_ref> rollups_;

    const schema& schema_;
    std::unordered_map<const object_def*, table> tables_;
    std::vector<listener> listeners_;
    lock_check lock_check_;
    std::unordered_map<std::string, validator> validators_;
    std::vector<validation_rule> rules_;
    std::uint64_t sequence_;
    std::uint64_t auto_number_ = 0;
    std::int64_t last_ms_ = 0;
    std::int64_t clock_offset_ms_ = 0;
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> limit_overrides_;
    std::optional<std::set<std::string>> cdc_selection_; // lower-case names
    std::string user_id_;
    std::string org_id_;
};

} // namespace sfbridge::sim
