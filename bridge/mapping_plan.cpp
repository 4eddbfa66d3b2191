#include "bridge/mapping_plan.hpp"

#include "mappings/ddl.hpp"

#include <algorithm>
#include <sstream>

namespace sfbridge::bridge {
namespace {

// 1234567 as "1,234,567".
std::string grouped(std::int64_t n) {
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return (n < 0 ? "-" : "") + out;
}

// The varchar length of a Postgres type such as "varchar(80)"; 0 for other types.
int varchar_length(const std::string& pg_type) {
    if (pg_type.rfind("varchar(", 0) != 0)
        return 0;
    return std::atoi(pg_type.c_str() + 8);
}

// The columns a run would add, and the varchar columns it would widen.
std::string table_line(const plan_settings& s, const mapping_now& x) {
    const auto& m = *x.m;
    const auto wanted = mappings::ddl::mapped_columns(m);
    const std::string name = s.schema + "." + m.table;
    if (!x.table.exists)
        return "table " + name + ": create, " + std::to_string(wanted.size()) + " mapped columns";
    std::string added, widened;
    for (const auto& [column, type] : wanted) {
        const auto it = x.table.columns.find(column);
        if (it == x.table.columns.end())
            added += (added.empty() ? "" : ", ") + column + " " + type;
        else if (it->second > 0 && it->second < varchar_length(type))
            widened += (widened.empty() ? "" : ", ") + column + " from varchar(" +
                       std::to_string(it->second) + ") to " + type;
    }
    if (added.empty() && widened.empty())
        return "table " + name + ": up to date";
    std::string out = "table " + name + ":";
    if (!added.empty())
        out += " add " + added + ";";
    if (!widened.empty())
        out += " widen " + widened + ";";
    out.pop_back();
    return out;
}

std::string topic_line(const mapping_now& x, const org_now& org) {
    const auto& m = *x.m;
    if (!m.config.sf_notify_enabled)
        return "streaming: none (sf_notify_enabled is false): polled only";
    if (m.options.change_data_capture)
        return "streaming: Change Data Capture, " + mappings::change_event_channel(m.object_name) +
               " (nothing to create; the object must be selected for CDC in Setup)";
    for (const auto& a : org.topics) {
        if (a.object != m.object_name)
            continue;
        using k = salesforce::topic_action::kind;
        const char* what = a.what == k::create   ? "create"
                           : a.what == k::update ? "update its query"
                                                 : "up to date";
        return "PushTopic " + a.name + ": " + what +
               (a.fetch_on_notify ? " (its query is past 1,300 characters: it selects Id, and "
                                    "each change is fetched)"
                                  : "");
    }
    return "PushTopic: none planned";
}

std::string load_line(const plan_settings& s, const mapping_now& x, std::int64_t& calls) {
    if (x.table.loaded && !x.table.reload && x.table.backfill.empty())
        return "initial load: none, loaded already";
    std::string why = x.table.reload ? "loads again (its row filter changed): " : "initial load: ";
    if (x.table.loaded && !x.table.reload) {
        why = "initial load: none, loaded already; back-fill of the added columns (";
        for (const auto& c : x.table.backfill)
            why += c + (&c == &x.table.backfill.back() ? "" : ", ");
        why += ") while syncing goes on: ";
    }
    if (!x.records)
        return why + "records not counted";
    const std::int64_t n = *x.records;
    const bool bulk = static_cast<std::size_t>(n) >= s.bulk_threshold; // as initial_load
    // REST: a count, then a page per 2,000 records. Bulk 2.0: the count, create, a few state
    // polls and a results page per 50,000 records or so (the server's choice).
    const std::int64_t used = bulk ? 1 + 1 + 3 + (n + 49999) / 50000 : 1 + (n + 1999) / 2000;
    calls += used;
    return why + grouped(n) + " records by " + (bulk ? "Bulk API 2.0" : "REST") + ", about " +
           grouped(used) + " API calls";
}

} // namespace

bool needs_count(const mapping_now& x) {
    return !x.table.loaded || x.table.reload || !x.table.backfill.empty() || x.m->refreshes();
}

std::int64_t refresh_calls_per_day(const mappings::resolved_mapping& m, std::int64_t records) {
    if (!m.refreshes())
        return 0;
    const std::int64_t every = m.options.refresh_seconds;
    return (86400 + every - 1) / every * (1 + std::max<std::int64_t>(1, (records + 1999) / 2000));
}

std::int64_t polling_calls_per_day(const mappings::resolved_mapping& m) {
    const std::int64_t every = std::max<std::int64_t>(1, m.config.sf_polling_seconds);
    const std::int64_t per_poll = 1 + (m.has_isdeleted ? 1 : 0) + (m.options.filter ? 1 : 0);
    return (86400 + every - 1) / every * per_poll;
}

std::string plan_report(const plan_settings& s, const std::vector<mapping_now>& ms,
                        const org_now& org) {
    std::ostringstream out;
    std::int64_t polling = 0, loads = 0;
    bool refreshes = false;
    for (const auto& x : ms) {
        const auto& m = *x.m;
        out << m.object_name << " (" << (m.read_write() ? "read_write" : "read_only") << ")\n";
        out << "  " << table_line(s, x) << "\n";
        out << "  " << topic_line(x, org) << "\n";
        out << "  " << load_line(s, x, loads) << "\n";
        if (m.options.refresh_seconds > 0) {
            if (!m.has_calculated_fields()) {
                out << "  refresh: none (sfbridge_refresh_seconds, but no formula or roll-up "
                       "field is mapped)\n";
            } else {
                const std::int64_t day = refresh_calls_per_day(m, x.records.value_or(0));
                polling += day;
                refreshes = true;
                out << "  refresh of formula and roll-up fields: every "
                    << m.options.refresh_seconds << " s, " << grouped(day) << " API calls a day"
                    << (x.records ? "" : " (records not counted)") << "\n";
            }
        }
        const std::int64_t day = polling_calls_per_day(m);
        polling += day;
        out << "  polling: every " << m.config.sf_polling_seconds << " s, " << grouped(day)
            << " API calls a day";
        if (m.options.filter)
            out << " (with the row filter's query of the window's Ids), and a query per streamed "
                   "batch";
        out << "\n";
    }
    for (const auto& a : org.topics)
        if (a.what == salesforce::topic_action::kind::remove)
            out << "PushTopic " << a.name << ": delete (sfbridge's, and no mapping streams "
                << a.object << " by it any more)\n";
    out << "API calls: " << grouped(polling) << " a day for polling"
        << (refreshes ? " and refreshes" : "");
    if (loads)
        out << ", and about " << grouped(loads) << " once for the loads";
    if (org.daily_api_max && *org.daily_api_max > 0) {
        out << "; the org allows " << grouped(*org.daily_api_max) << " a day";
        if (org.daily_api_remaining)
            out << " (" << grouped(*org.daily_api_remaining) << " left now)";
        if (polling + loads > *org.daily_api_max)
            out << ": MORE THAN THE ORG ALLOWS (poll less often, or filter rows)";
        else
            out << " (" << (polling * 100 + *org.daily_api_max - 1) / *org.daily_api_max
                << "% of it for polling)";
    }
    out << "\nNothing was changed.\n";
    return out.str();
}

} // namespace sfbridge::bridge
