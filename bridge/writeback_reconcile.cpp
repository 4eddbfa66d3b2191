#include "bridge/writeback_reconcile.hpp"

#include "bridge/reconcile_plan.hpp"
#include "core/log.hpp"
#include "mappings/soql.hpp"

#include <algorithm>
#include <utility>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// The candidates: records the integration user created since the writes were captured.
asio::awaitable<error_code> find_candidates(salesforce::rest_client& rest,
                                            const mappings::resolved_mapping& m,
                                            const std::vector<sent_create>& sent, bool by_value,
                                            std::vector<salesforce::flat_record>& out,
                                            salesforce::diagnostics& d) {
    salesforce::call_options o;
    o.tag = m.object_name;
    const salesforce::rest_client::page_handler on_page =
        [&](salesforce::query_page& page) -> asio::awaitable<error_code> {
        for (auto& r : page.records)
            out.push_back(std::move(r));
        co_return error_code{};
    };
    const std::string soql = reconcile_query(m, sent, rest.user_id(), by_value);
    // Both looks read the recycle bin: a record deleted since is adopted (and its row deleted),
    // whether it matches whole (first look) or, changed before it was deleted, resembles
    // (second look, assign_changed_live_first).
    co_return co_await rest.query(soql, m.has_isdeleted, 0, on_page, d, o);
}

std::vector<std::string> record_ids(const std::vector<salesforce::flat_record>& records) {
    std::vector<std::string> ids;
    for (const auto& r : records)
        if (const auto* id = r.get("Id"))
            ids.push_back(id->raw);
    return ids;
}

// One look for these creates' records. The first filters by value and compares every value
// sent; the second (`wide`) looks at the records changed since they were created: by the app
// itself (compared on the other fields), or by anyone (adopted only when the resemblance is
// unique both ways, assign_changed). Records other rows of the app hold, or in `taken`,
// are never adopted.
asio::awaitable<error_code>
look(salesforce::rest_client& rest, trigger_log& log, const mappings::resolved_mapping& m,
     const std::vector<sent_create>& sent, const std::vector<std::int64_t>& own_rows,
     std::set<std::string> taken, bool wide, std::vector<std::string>& matched,
     std::set<std::string>& deleted) {
    std::vector<salesforce::flat_record> candidates;
    salesforce::diagnostics sd;
    if (auto ec = co_await find_candidates(rest, m, sent, !wide, candidates, sd)) {
        log::warn("writeback", "cannot look for the records of creates whose answer was lost",
                  {{"mapping", m.object_name}, {"error", sd.summary()}});
        co_return ec;
    }
    auto in_bin = [](const salesforce::flat_record& r) {
        const auto* d = r.get("IsDeleted");
        return d && d->raw == "true";
    };
    own_writes own;
    pg::diagnostics pd;
    if (wide) {
        std::vector<std::pair<std::string, std::string>> updates;
        if (auto ec = co_await log.updates_sent_to(m.table, record_ids(candidates), updates, pd)) {
            log::warn("writeback", "cannot read the app's updates of candidate records",
                      {{"mapping", m.object_name}, {"error", pd.summary()}});
            co_return ec;
        }
        own = written_fields(m, updates);
        std::erase_if(candidates, [&](const salesforce::flat_record& r) {
            const auto* id = r.get("Id");
            // The others were compared whole already, unless changed since (assign_changed).
            return !id || (!own.contains(id->raw) && !changed_since_created(r));
        });
    }
    // Only candidates that match (or, changed since, resemble) some create are asked about.
    std::erase_if(candidates, [&](const salesforce::flat_record& r) {
        const auto* id = r.get("Id");
        const auto w = id ? own.find(id->raw) : own.end();
        const auto* skip = w == own.end() ? nullptr : &w->second;
        return std::none_of(sent.begin(), sent.end(), [&](const sent_create& s) {
            return matches(s, r, skip) ||
                   (wide && changed_since_created(r) && resembles(s, r, skip));
        });
    });
    if (auto ec =
            co_await log.held_by_app_rows(m.table, record_ids(candidates), own_rows, taken, pd)) {
        log::warn("writeback", "cannot read which records other rows hold",
                  {{"mapping", m.object_name}, {"error", pd.summary()}});
        co_return ec;
    }
    // A record the app deleted through a row it inserted (in the bin, or its DELETE still to
    // send) is never another row's (trigger_log::deleted_by_app); of
    // the others, live records are preferred (a create made twice after a lost answer).
    std::vector<std::string> binned;
    for (const auto& r : candidates)
        if (in_bin(r))
            binned.push_back(r.get("Id")->raw); // (every candidate left has an Id)
    // (Any candidate: a live record whose DELETE the app logged is on its way out too.)
    const bool own_records_only = !rest.user_id().empty(); // candidates: the user's creates
    if (auto ec = co_await log.deleted_by_app(m.table, record_ids(candidates), own_records_only,
                                              taken, pd)) {
        log::warn("writeback", "cannot read which records the app deleted",
                  {{"mapping", m.object_name}, {"error", pd.summary()}});
        co_return ec;
    }
    // Nor is a deleted record that came back as another row's create (its row gone with it
    // when a user deleted it: the values, or the key, reused by a new row since).
    if (auto ec = co_await log.answered_to_other_rows(m.table, binned, own_rows, taken, pd)) {
        log::warn("writeback", "cannot read which records other rows' creates made",
                  {{"mapping", m.object_name}, {"error", pd.summary()}});
        co_return ec;
    }
    deleted.insert(binned.begin(), binned.end());
    std::stable_partition(candidates.begin(), candidates.end(),
                          [&](const salesforce::flat_record& r) { return !in_bin(r); });
    matched = assign_candidates(sent, candidates, taken, own);
    if (!wide)
        co_return error_code{};
    std::vector<sent_create> left;
    std::vector<std::size_t> where;
    for (std::size_t i = 0; i < sent.size(); ++i)
        if (matched[i].empty()) {
            left.push_back(sent[i]);
            where.push_back(i);
        } else {
            taken.insert(matched[i]);
        }
    const auto changed = assign_changed_live_first(left, candidates, taken, own);
    for (std::size_t j = 0; j < changed.size(); ++j)
        matched[where[j]] = changed[j];
    co_return error_code{};
}

// Upserts whose outcome is unknown, before they go again (binned_upserts): a record of theirs
// a user deleted since is adopted and its row deleted, as the delete's echo would have done.
asio::awaitable<error_code> adopt_binned_upserts(salesforce::rest_client& rest, trigger_log& log,
                                                 const mappings::resolved_mapping& m,
                                                 const std::vector<writeback_entry*>& es) {
    const auto keys = external_ids(m, es); // one each: every one was sent as an upsert
    if (!m.has_isdeleted || keys.size() != es.size())
        co_return error_code{};
    const std::string field = m.field(*m.upsert_field)->sf.info.name;
    std::int64_t since = es.front()->created_ms;
    for (const auto* e : es)
        since = std::min(since, e->created_ms);
    std::vector<salesforce::flat_record> records;
    salesforce::call_options o;
    o.tag = m.object_name;
    const salesforce::rest_client::page_handler on_page =
        [&](salesforce::query_page& page) -> asio::awaitable<error_code> {
        for (auto& r : page.records)
            records.push_back(std::move(r));
        co_return error_code{};
    };
    for (std::size_t at = 0; at < keys.size(); at += 100) {
        std::string in;
        for (std::size_t i = at; i < std::min(keys.size(), at + 100); ++i)
            in += (in.empty() ? "" : ",") + mappings::soql::quote(keys[i]);
        std::string soql = "SELECT Id, IsDeleted, " + field + " FROM " + m.object_name + " WHERE " +
                           field + " IN (" + in + ") AND CreatedDate >= " +
                           mappings::soql::datetime(since - reconcile_clock_margin_ms);
        if (!rest.user_id().empty())
            soql += " AND CreatedById = " + mappings::soql::quote(rest.user_id());
        salesforce::diagnostics d;
        if (auto ec =
                co_await rest.query(soql + " ORDER BY CreatedDate DESC", true, 0, on_page, d, o)) {
            log::warn("writeback", "cannot look for the records of upserts whose answer was lost",
                      {{"mapping", m.object_name}, {"error", d.summary()}});
            co_return ec;
        }
    }
    const auto ids = binned_upserts(keys, field, records);
    // A record the app deleted itself (through a row it inserted, with the same key reused by
    // a new row since) was not this upsert's: the new row's upsert makes its own.
    std::vector<std::string> binned;
    for (const auto& id : ids)
        if (!id.empty())
            binned.push_back(id);
    std::set<std::string> by_app;
    pg::diagnostics pd;
    if (auto ec =
            co_await log.deleted_by_app(m.table, binned, !rest.user_id().empty(), by_app, pd)) {
        log::warn("writeback", "cannot read which records the app deleted",
                  {{"mapping", m.object_name}, {"error", pd.summary()}});
        co_return ec;
    }
    // Nor one made for another row with the same key (an earlier row the inbound side deleted
    // when a user deleted its record, its key reused by a new row since): the new row's upsert
    // makes its own, never sent until now perhaps.
    std::vector<std::int64_t> own;
    for (const auto* e : es)
        own.push_back(e->record_id);
    if (auto ec = co_await log.answered_to_other_rows(m.table, binned, own, by_app, pd)) {
        log::warn("writeback", "cannot read which records other rows' creates made",
                  {{"mapping", m.object_name}, {"error", pd.summary()}});
        co_return ec;
    }
    unsigned long adopted = 0;
    for (std::size_t i = 0; i < es.size(); ++i) {
        if (ids[i].empty() || by_app.contains(ids[i]))
            continue;
        auto* e = es[i];
        e->outcome = writeback_entry::result::success;
        e->new_sfid = ids[i];
        e->replaces_echo = true;
        e->record_deleted = true;
        ++adopted;
    }
    if (adopted)
        log::info("writeback",
                  "upserts whose answer was lost: their records were deleted in Salesforce since, "
                  "so their rows are deleted rather than the records made again",
                  {{"mapping", m.object_name}, {"records", adopted}});
    co_return error_code{};
}

} // namespace

asio::awaitable<error_code> find_lost_creates(salesforce::rest_client& rest, trigger_log& log,
                                              const mappings::resolved_mapping& m,
                                              const std::vector<writeback_entry*>& es,
                                              const std::set<std::string>& batch_sfids,
                                              std::vector<std::string>& found,
                                              std::set<std::string>& deleted, bool wide) {
    found.assign(es.size(), std::string());
    auto in = comparable_values(m, es);
    for (auto* e : in.unrecognisable)
        log::warn(
            "writeback",
            "a create's answer was lost and its row has no value to recognise its record by "
            "(give the mapping an upsert field)",
            {{"mapping", m.object_name}, {"record_id", static_cast<long long>(e->record_id)}});
    if (in.sent.empty())
        co_return error_code{};
    if (rest.user_id().empty())
        log::warn("writeback",
                  "the integration user's id is unknown: records of any user are "
                  "looked at for creates whose answer was lost",
                  {{"mapping", m.object_name}});
    std::vector<std::int64_t> own_rows;
    for (auto* e : es)
        own_rows.push_back(e->record_id);
    std::set<std::string> taken = batch_sfids; // created and answered, not yet recorded
    auto put = [&](const std::vector<sent_create>& sent, const std::vector<std::string>& ids) {
        for (std::size_t i = 0; i < ids.size(); ++i)
            for (std::size_t k = 0; k < es.size() && !ids[i].empty(); ++k)
                if (es[k] == sent[i].e) {
                    found[k] = ids[i];
                    taken.insert(ids[i]);
                }
    };
    std::vector<std::string> matched;
    if (auto ec = co_await look(rest, log, m, in.sent, own_rows, taken, false, matched, deleted))
        co_return ec;
    put(in.sent, matched);
    std::vector<sent_create> rest_of;
    for (std::size_t i = 0; i < matched.size(); ++i)
        if (matched[i].empty())
            rest_of.push_back(in.sent[i]);
    if (rest_of.empty() || !wide)
        co_return error_code{};
    if (auto ec = co_await look(rest, log, m, rest_of, own_rows, taken, true, matched, deleted))
        co_return ec;
    put(rest_of, matched);
    co_return error_code{};
}

asio::awaitable<error_code> reconcile_creates(salesforce::rest_client& rest, trigger_log& log,
                                              const mappings::resolved_mapping& m,
                                              const std::vector<writeback_entry*>& es,
                                              const std::set<std::string>& batch_sfids) {
    std::vector<writeback_entry*> unknown, upserts;
    for (auto* e : es)
        if (e->pending() && e->created) {
            // Answered before, its record noted (trigger_log::note_created): adopted as it is.
            e->outcome = writeback_entry::result::success;
            e->new_sfid = e->sfid;
            e->replaces_echo = true;
            e->unknown = false;
        } else if (e->pending() && (e->unknown || e->maybe_applied) && sent_as_upsert(m, *e)) {
            // Safe to send again, unless its record was deleted since: looked at before every
            // send (a retry after a failure that stopped before the call looks again too).
            e->maybe_applied = true;
            upserts.push_back(e);
        } else if (e->pending() && e->unknown) {
            unknown.push_back(e);
        }
    if (!upserts.empty()) {
        if (auto ec = co_await adopt_binned_upserts(rest, log, m, upserts))
            co_return ec; // still unknown: looked for again before they are sent
        for (auto* e : upserts)
            e->unknown = false;
    }
    if (unknown.empty())
        co_return error_code{};
    std::vector<std::string> found;
    std::set<std::string> deleted;
    if (auto ec = co_await find_lost_creates(rest, log, m, unknown, batch_sfids, found, deleted))
        co_return ec;
    unsigned long adopted = 0, gone = 0;
    for (std::size_t i = 0; i < found.size(); ++i) {
        auto* e = unknown[i];
        e->unknown = false; // found and adopted, or created now
        if (found[i].empty())
            continue;
        e->outcome = writeback_entry::result::success;
        e->new_sfid = found[i];
        e->replaces_echo = true;
        e->record_deleted = deleted.contains(found[i]);
        gone += e->record_deleted;
        ++adopted;
    }
    log::info("writeback", "creates whose answer was lost: looked for in Salesforce",
              {{"mapping", m.object_name},
               {"adopted", adopted},
               {"of_them_deleted_since", gone},
               {"created_now", static_cast<unsigned long>(found.size()) - adopted}});
    co_return error_code{};
}

} // namespace sfbridge::bridge
