#pragma once

#include "bridge/writeback_plan.hpp"
#include "mappings/resolve.hpp"
#include "salesforce/records.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

// Creates whose answer was lost, pure: Salesforce may hold the record, so it is looked for
// before the create is sent again (salesforce-protocol.md §5). The candidates are the records
// the integration user created since the write was captured (in Salesforce's clock, less a
// margin for the error of the offset and a clock unmeasured); one matches when every field the
// create sent that can be compared exactly (text, picklists, ids, booleans, numbers, dates) has the
// value sent. Each candidate is adopted by one entry at most, in trigger-log order. A record the
// app itself changed since (its echo became a row, which the app updated) is compared on the fields
// the app left alone; the first look filters by one sent value, so a second look without that
// filter finds it. A record someone changed since its creation resembles its create on the fields
// left alone, and is adopted by that weaker test only when the pairing is unique both ways
// (assign_changed). writeback_reconcile.cpp runs the query and records what this decides.
namespace sfbridge::bridge {

// How far before the write's capture (in Salesforce's clock, writeback_entry::created_ms) a
// candidate may have been created: the offset's error, or skew it has not measured yet.
inline constexpr std::int64_t reconcile_clock_margin_ms = 5 * 60 * 1000;

// What one create sent, by Salesforce field name, as Postgres holds it.
struct sent_create {
    writeback_entry* e = nullptr;
    std::vector<std::pair<std::string, std::string>> values; // API name, value text
    std::vector<std::string> types;                          // the describe's type of each
};

// The comparable, non-empty values of each entry's row. An entry with nothing to compare is
// left out (`unrecognisable`): no record can be told to be its own.
struct reconcile_input {
    std::vector<sent_create> sent;
    std::vector<writeback_entry*> unrecognisable;
};
[[nodiscard]] reconcile_input comparable_values(const mappings::resolved_mapping& m,
                                                const std::vector<writeback_entry*>& es);

// The SOQL of the candidates (for queryAll: a record deleted since is still the create's): Id,
// IsDeleted and the compared fields of records created by `user_id`
// since the earliest capture less the margin, and, when every create sent a value of one text
// field SOQL can filter (at most 100 values), having one of those values: a long outage then
// does not fetch every record the user made since. An empty user id leaves that filter out.
// `by_value` false leaves the value filter out (the second look, below), newest first and at
// most reconcile_wide_limit records, with CreatedDate and LastModifiedDate (changed_since_created).
[[nodiscard]] std::string reconcile_query(const mappings::resolved_mapping& m,
                                          const std::vector<sent_create>& sent,
                                          const std::string& user_id, bool by_value = true);
inline constexpr int reconcile_wide_limit = 2000;

// " AND <field> IN (...)" for reconcile_query, or "" when no field fits.
[[nodiscard]] std::string value_filter(const std::vector<sent_create>& sent);

// Fields (API names, lower case) the app itself wrote to a record after its create, by record
// id: the app's updates of the row the inbound side made of the record's echo. A create's
// record can then no longer be recognised by them, but they are no evidence against it either.
using own_writes = std::map<std::string, std::set<std::string>>;

// From the trigger log's (sfid, values) of updates the app sent to these records.
[[nodiscard]] own_writes
written_fields(const mappings::resolved_mapping& m,
               const std::vector<std::pair<std::string, std::string>>& sfid_values);

// Whether a candidate holds every value the create sent, less the fields in `skip` (the app's
// own later writes to it); with a skip, what is left must be two fields or one typed text
// (not a lone picklist value, checkbox or number).
[[nodiscard]] bool matches(const sent_create& s, const salesforce::flat_record& r,
                           const std::set<std::string>* skip = nullptr);

// Whether a candidate was saved again after its creation (LastModifiedDate after CreatedDate,
// both as Salesforce returns them): someone may have changed any of its fields since.
[[nodiscard]] bool changed_since_created(const salesforce::flat_record& r);

// Whether a candidate changed since its creation still resembles a create: of the values sent
// (less `skip`), at least as many typed texts hold as values of any kind differ (a checkbox or
// a number that holds is no evidence, one that differs is).
// Weaker than `matches`, so assign_changed adopts by it only when the pairing is unique.
[[nodiscard]] bool resembles(const sent_create& s, const salesforce::flat_record& r,
                             const std::set<std::string>* skip = nullptr);

// The third chance, for creates no candidate matches: a candidate changed since its creation
// (a user or an automation edited it before the lost answer was noticed) is adopted by a create
// it resembles when neither resembles any other (no guessing between two). Others "" .
[[nodiscard]] std::vector<std::string>
assign_changed(const std::vector<sent_create>& sent,
               const std::vector<salesforce::flat_record>& candidates,
               const std::set<std::string>& taken, const own_writes& own = {});

// Upserts whose outcome is unknown (seed 1093 of the long campaign): sending one again is safe
// while its record lives (the upsert finds it by the external id), but when a user deleted it
// in the meantime the upsert would make a second record, bringing back what the user deleted.
// `records` are those with the entries' keys the integration user created since they were
// captured, deleted ones included (Id, IsDeleted, the key field `key_field`). Per entry: the
// id of its record in the recycle bin when no live record holds its key (the newest), else "".
// Keys compare as Salesforce compares external ids: without regard to case.
[[nodiscard]] std::vector<std::string>
binned_upserts(const std::vector<std::string>& keys, const std::string& key_field,
               const std::vector<salesforce::flat_record>& records);

// assign_changed over live records first; then, for the creates no live record resembles, over
// the recycle bin's (IsDeleted true): a record a user changed and then deleted before the look
// (seed 1074 of the long campaign). Such a record was the create's; sending the create again
// would bring back what the user deleted (and a duplicate once it is undeleted). The caller
// deletes its row, as the delete's echo would have; the record keeps the app's values in the
// bin, so a wrong pairing loses nothing an undelete cannot bring back.
[[nodiscard]] std::vector<std::string>
assign_changed_live_first(const std::vector<sent_create>& sent,
                          const std::vector<salesforce::flat_record>& candidates,
                          const std::set<std::string>& taken, const own_writes& own = {});

// Each entry's record id in Salesforce, or "" when none matches. A candidate in `taken` (held
// by another row of the app) or adopted by an earlier entry is not adopted again.
[[nodiscard]] std::vector<std::string>
assign_candidates(const std::vector<sent_create>& sent,
                  const std::vector<salesforce::flat_record>& candidates,
                  const std::set<std::string>& taken, const own_writes& own = {});

} // namespace sfbridge::bridge
