#pragma once

#include "bridge/hstore.hpp"
#include "bridge/write_algorithm.hpp"
#include "mappings/resolve.hpp"
#include "salesforce/collections.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

// The write-back's decisions, pure: what a claimed batch of _trigger_log rows becomes in
// Salesforce calls and what each row's outcome is. No I/O: writeback.cpp sends what this plans
// and trigger_log.cpp records what this decides.
//
//  - classify: each entry to inserts, updates or deletes of its table (an unknown table or
//    action, or an sfid that is not a record id, fails that entry alone);
//  - insert_order: tables in trigger-log order of their first insert, parents before children
//    (a child naming its parent by external id needs the parent created first);
//  - record_json: the fields of one write from a row's values, only those the mapping may write;
//  - conflicts: an update whose field Salesforce also changed goes to the later of the two;
//  - merged writes fold a record's pending updates into one; ordered writes send them in
//    rounds, a later one never before an earlier one has gone through;
//  - apply_result: a Salesforce result becomes the entry's outcome (or keeps it pending).
namespace sfbridge::bridge {

enum class write_action { insert, update, remove };
// INSERT, UPDATE, DELETE as the triggers write them; nullopt for anything else.
[[nodiscard]] std::optional<write_action> parse_action(std::string_view text) noexcept;

struct writeback_entry {
    std::int64_t id = 0;
    std::string action_text; // as _trigger_log has it
    std::optional<write_action> action;
    std::string table;
    std::int64_t record_id = 0;
    std::string sfid;
    std::string values;           // hstore text
    std::string old;              // hstore text: the row before an UPDATE
    std::string created_at;       // UTC, "YYYY-MM-DD HH:MM:SS.mmm"
    std::int64_t created_ms = 0;  // the same in Salesforce's clock (trigger_log's offset)
    std::int64_t captured_ms = 0; // the same in ours (the write-back's latency)
    // The write was sent and its answer lost (here, or by a process that died holding the row).
    // A create: Salesforce may hold the record, so it is looked for before it is sent again.
    // An update: its values may be in Salesforce and come back as its echo, which is then the
    // app's own value in the row, not a Salesforce change to detect a conflict with.
    bool unknown = false;
    // An upsert once unknown: it may have made its record, so every send again first looks
    // whether a user deleted that record since (adopt_binned_upserts), not only the first.
    bool maybe_applied = false;
    // A create already answered (sf_result_created): its record is the entry's sfid.
    bool created = false;
    // The record's echo may have been merged as a row of its own while the mapping's lock was
    // not held (a record found by reconciliation, or a create answered in a Postgres session
    // that died): that row goes when this row takes the sfid.
    bool replaces_echo = false;
    // The create's record was found by reconciliation in Salesforce's recycle bin: a user deleted
    // it before the lost answer was noticed. The row goes too, as the delete's echo would have
    // taken it had the row known its sfid; the record is not created again.
    bool record_deleted = false;
    bool recorded = false; // the outcome is committed in Postgres
    // Postgres refused to record this outcome for the row's data (the app's trigger raised, a
    // constraint): why. The entry is kept and recorded again later without holding the rest.
    std::string stamp_error;
    // Merged into this later entry's write (write_algorithm::merged): pending until that write
    // is through, so that a transient failure sends the merged fields again too.
    writeback_entry* merged_into = nullptr;
    // The outcome. `conflict`: every field it changed lost to a later Salesforce change.
    enum class result {
        pending,
        success,
        failed,
        merged,
        ignored,
        conflict
    } outcome = result::pending;
    std::string new_sfid;
    std::string error_code, message;
    std::vector<std::string> fields;

    void fail(std::string code, std::string why) {
        outcome = result::failed;
        error_code = std::move(code);
        message = std::move(why);
    }
    [[nodiscard]] bool pending() const noexcept { return outcome == result::pending; }
};

// _trigger_log.sf_result of an entry whose create has an unknown outcome (Heroku Connect leaves
// the column NULL on rows waiting to be sent), and the sf_message that says so.
inline constexpr int sf_result_unknown = 1;
inline constexpr std::string_view unknown_message =
    "sfbridge: the create was sent and its answer lost; its record is looked for in Salesforce "
    "before it is sent again";
// _trigger_log.sf_result (with the sfid) of a create Salesforce answered whose row Postgres did
// not take (the app's trigger refused it, the session was lost, the process stopped): a later
// claim adopts the record instead of creating it again.
inline constexpr int sf_result_created = 3;
inline constexpr std::string_view created_message =
    "sfbridge: created in Salesforce; the row is stamped with its sfid once Postgres takes it";
inline constexpr std::string_view update_unknown_message =
    "sfbridge: the update was sent and its answer lost; it is sent again";

using mapping_lookup = std::function<const mappings::resolved_mapping*(const std::string& table)>;

// Pending entries by table, in trigger-log order within each.
struct classified {
    std::map<std::string, std::vector<writeback_entry*>> inserts, updates, deletes;
};
[[nodiscard]] classified classify(std::vector<writeback_entry>& batch, const mapping_lookup& find);

[[nodiscard]] std::vector<std::string>
insert_order(const std::map<std::string, std::vector<writeback_entry*>>& inserts,
             const mapping_lookup& find);

// The JSON object's members (without braces' closing: "{" then members) of one write. False
// with `error` on a value Salesforce cannot take; `any` says whether a member was written.
bool record_json(const mappings::resolved_mapping& m, const hstore_pairs& values, bool create,
                 std::string& out, std::string& error, bool& any);

// Inserts split into creates and upserts (an upsert field with a value), their JSON records in
// the same order as their owners. An entry whose values cannot be read fails here; an entry
// whose earlier create has an unknown outcome is left out (it is reconciled first).
struct insert_plan {
    std::vector<std::string> creates, upserts;
    std::vector<writeback_entry*> create_owners, upsert_owners;
};
[[nodiscard]] insert_plan plan_inserts(const mappings::resolved_mapping& m,
                                       const std::vector<writeback_entry*>& es);
// Whether this insert goes as an upsert (the mapping's upsert field has a value in the row).
[[nodiscard]] bool sent_as_upsert(const mappings::resolved_mapping& m, const writeback_entry& e);
// The upsert field's values of these entries (to find records created before a crash).
[[nodiscard]] std::vector<std::string> external_ids(const mappings::resolved_mapping& m,
                                                    const std::vector<writeback_entry*>& es);

// One update of a record, its values parsed; the row as it is now, for conflict detection.
struct record_change {
    writeback_entry* e;
    hstore_pairs values;
};
struct current_row {
    std::string sfid;
    // SystemModstamp in our clock (trigger_log::current), compared with writeback_entry::created_at
    std::string modstamp;
    hstore_pairs values;
    // For each column, every value the app's updates sent to Salesforce or still wait to send
    // (loaded only for suspected conflicts): a field holding one came back from the app's own
    // write (the newest, or an older one whose echo arrived late, after the app had written
    // again) or is the app's newer write, made after this batch was claimed; it is no change
    // made in Salesforce.
    std::map<std::string, std::set<std::optional<std::string>>> sent;
    // For each column, when the app's latest update of it was recorded (after Salesforce applied
    // it), as `modstamp` is written: a row whose SystemModstamp is older shows Salesforce from
    // before that write (a poll or an event that came late), so its value is no newer change.
    std::map<std::string, std::string> sent_at;
};
struct write_conflict {
    writeback_entry* e = nullptr;
    std::string sfid, field;
    bool salesforce_won = false;
    std::optional<std::string> kept, lost;
};
// Finds the fields both the app and Salesforce changed; the later change wins. Fields
// Salesforce won are removed from the changes; a change left empty becomes `conflict`.
// sf_message of a write every field of which lost a conflict (its trigger-log state is FAILED).
[[nodiscard]] std::string conflict_message(const std::vector<std::string>& columns);
void find_conflicts(const std::string& sfid, std::vector<record_change>& changes,
                    const current_row& row, std::vector<write_conflict>& out);

// The record ids (of `rows`) where a field the app changed holds neither the value before the
// record's first pending edit nor the app's latest value (find_conflicts' rule): a conflict,
// unless the value is the app's own earlier write. current_row::sent is loaded for them.
[[nodiscard]] std::set<std::int64_t>
suspected_conflicts(const std::vector<writeback_entry*>& es,
                    const std::map<std::int64_t, current_row>& rows);

// Updates grouped by record (sfid) in trigger-log order, with what conflict detection found.
struct update_plan {
    std::vector<std::string> order; // sfids, by first entry
    std::map<std::string, std::vector<record_change>> per_record;
    std::vector<write_conflict> conflicts;
    // App changes of columns the mapping never writes back (sfbridge_read_only_fields), recorded
    // as conflicts Salesforce won: the row gets Salesforce's value again when the record is read.
    std::vector<write_conflict> read_only;
};
// `rows` by record id. Entries whose row is gone are ignored; without an sfid anywhere, failed.
// Columns in `read_only` are taken out of each change (into `read_only`); a change of nothing
// else sends nothing and succeeds.
[[nodiscard]] update_plan plan_updates(const std::vector<writeback_entry*>& es,
                                       const std::map<std::int64_t, current_row>& rows,
                                       write_algorithm algorithm,
                                       const std::set<std::string>& read_only = {});
// Takes the columns in `read_only` out of one change, each a conflict Salesforce won (its value
// as `old` has it); false when nothing is left to send (the entry then succeeds).
bool keep_read_only(const std::set<std::string>& read_only, writeback_entry& e,
                    const std::string& sfid, hstore_pairs& values,
                    std::vector<write_conflict>& out);
// After a merged plan's writes: an entry merged into a write that went through is MERGED; into
// one Salesforce refused, FAILED with its reason; into one still pending, pending again (the
// next attempt plans and merges it anew).
void settle_merged(const std::vector<writeback_entry*>& es);
// Round `round` of an update plan: each record's round-th change, but none of a record in
// `held` (an earlier change still pending). `done` is false while a later round has work.
struct update_round {
    std::vector<std::string> records;
    std::vector<std::pair<std::string, writeback_entry*>> owners; // sfid, entry
    bool last = false;
};
[[nodiscard]] update_round plan_update_round(const mappings::resolved_mapping& m, update_plan& plan,
                                             std::size_t round, const std::set<std::string>& held);

// Deletes: one per sfid; an entry without an sfid (never reached Salesforce) or repeating one
// is a success at once.
struct delete_plan {
    std::vector<std::string> ids;
    std::vector<writeback_entry*> owners;
};
[[nodiscard]] delete_plan plan_deletes(const std::vector<writeback_entry*>& es);

// A Salesforce result into the entry; true when it stays pending (not attempted, a lost answer
// to a create, which makes the entry `unknown`, or a transient refusal such as
// UNABLE_TO_LOCK_ROW).
bool apply_result(writeback_entry& e, const salesforce::record_result& r, bool is_delete);

// _hc_err's JSON for a failed entry.
[[nodiscard]] std::string error_json(const writeback_entry& e);

// What the trigger log and the mapped rows are set to for finished entries.
struct log_outcomes {
    std::vector<std::optional<std::string>> ids, states, messages, sfids;
};
[[nodiscard]] log_outcomes trigger_log_outcomes(const std::vector<writeback_entry*>& done);
struct row_outcomes {
    std::string table;
    std::vector<std::optional<std::string>> record_ids, sfids, ops, errors;
};
// Per table, one row each: the outcome of its latest entry, and a new sfid from any. Entries of
// tables with no read-write mapping are left out (the trigger log still records them).
[[nodiscard]] std::vector<row_outcomes> mapped_row_outcomes(std::vector<writeback_entry*> done);
// Per table, the rows that take a record whose echo may be a row of its own (record_ids, sfids).
[[nodiscard]] std::vector<row_outcomes>
echo_replacing_rows(const std::vector<writeback_entry*>& done);
// Per table, the rows whose create's record was found deleted (writeback_entry::record_deleted):
// deleted as the delete's echo would have done (record_ids).
[[nodiscard]] std::vector<row_outcomes>
rows_of_deleted_records(const std::vector<writeback_entry*>& done);
inline constexpr std::string_view deleted_since_message =
    "created; its answer was lost and the record was deleted in Salesforce before it was found: "
    "the row was deleted too";

} // namespace sfbridge::bridge
