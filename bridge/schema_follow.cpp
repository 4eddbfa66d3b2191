#include "bridge/schema_follow.hpp"

#include "bridge/schema_change.hpp"
#include "bridge/sync_context.hpp"
#include "core/log.hpp"
#include "core/text.hpp"

#include <algorithm>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// The mapping's fields named in `skipped` are dropped (the column stays); every field synced
// without is named in m.schema_warnings.
void skip_fields(mapping_runtime& m, const std::vector<std::string>& skipped,
                 const std::vector<std::string>& messages) {
    m.schema_warnings.clear();
    for (const auto& name : m.m.missing_fields)
        m.schema_warnings.push_back("mapping " + m.m.object_name + ": field " + name +
                                    " is not in Salesforce's describe (deleted, or hidden from "
                                    "the integration user): syncing without it");
    for (const auto& message : messages) {
        log::warn("mappings", message);
        m.schema_warnings.push_back(message);
    }
    if (skipped.empty())
        return;
    auto& fields = m.m.fields;
    std::erase_if(fields, [&](const mappings::mapped_field& f) {
        return std::find(skipped.begin(), skipped.end(), f.sf.info.name) != skipped.end();
    });
    m.m.missing_fields.insert(m.m.missing_fields.end(), skipped.begin(), skipped.end());
    m.batch = std::make_unique<change_batch>(m.m);
}

// Postgres refused the ALTER for the data or the schema (a value that does not convert, out of
// range or too long; a view or rule on the column; a feature it lacks), not for a passing cause.
bool refused_for_good(std::string_view sqlstate) {
    return sqlstate.starts_with("22") || sqlstate.starts_with("0A") || sqlstate.starts_with("42") ||
           sqlstate.starts_with("2B");
}

// An error when the mapping cannot go on without a skipped field.
std::string needed(const mappings::resolved_mapping& m, const std::vector<std::string>& skipped) {
    for (const auto& name : skipped)
        if (m.upsert_field && text::iequals(*m.upsert_field, name))
            return "mapping " + m.object_name + ": its upsert_field " + name +
                   " changed type in Salesforce and its column cannot follow";
    if (!m.options.filter)
        return {};
    auto filter = *m.options.filter;
    std::string error;
    const auto mapped = [&](std::string_view name) -> const mappings::field_describe* {
        if (std::any_of(skipped.begin(), skipped.end(),
                        [&](const std::string& s) { return text::iequals(s, name); }))
            return nullptr;
        const auto* f = m.field(name);
        return f ? &f->sf : nullptr;
    };
    if (!mappings::check_filter(filter, mapped, error))
        return "mapping " + m.object_name +
               ": its sfbridge_filter reads a field whose column "
               "cannot follow its type change in Salesforce: " +
               error;
    return {};
}

} // namespace

asio::awaitable<bool>
follow_schema(table_writer& w, const std::string& schema, mapping_runtime& m,
              const std::map<std::string, mappings::ddl::existing_column>& existing,
              std::string_view stored_types, followed_schema& out, std::string& error) {
    const auto stored = schema_change::parse_field_types(stored_types);
    auto plan = mappings::ddl::follow_types(schema, m.m, existing,
                                            schema_change::retyped_columns(m.m, stored));
    for (const auto& [column, sql] : plan.alters) {
        pg::diagnostics d;
        const auto* f = m.m.by_column(column);
        // A type change rewrites the table: the long deadline.
        const auto usual = w.connection().timeout();
        w.connection().set_timeout(long_statement_deadline);
        error_code ec;
        if (!sql.empty())
            ec = co_await w.exec(sql, d);
        w.connection().set_timeout(usual);
        if (ec) {
            // A lock wait, a deadline, a lost session: the start fails and is tried again.
            if (!refused_for_good(d.sqlstate)) {
                error = "mapping " + m.m.object_name + ": making column " + column +
                        " follow its field's type failed: " + d.summary();
                co_return false;
            }
            // A view on the column, a value too long or out of range: this field only.
            plan.skipped.push_back(f->sf.info.name);
            plan.messages.push_back("mapping " + m.m.object_name + ": field " + f->sf.info.name +
                                    " is now " + f->sf.info.type + " in Salesforce, and column " +
                                    column + " could not follow (" + d.summary() +
                                    "): syncing without it");
            continue;
        }
        log::info("sync", "a column follows its field's type change in Salesforce",
                  {{"mapping", m.m.object_name}, {"column", column}, {"type", f->pg_type}});
        out.columns.push_back(column);
    }
    if (error = needed(m.m, plan.skipped); !error.empty())
        co_return false;
    // Skipped fields keep their old type, so that the next start tries them again.
    std::map<std::string, std::string> keep;
    for (const auto& name : plan.skipped)
        if (const auto* f = m.m.field(name); f && stored.contains(f->column))
            keep[f->column] = stored.at(f->column);
    skip_fields(m, plan.skipped, plan.messages);
    out.field_types = schema_change::field_types(m.m, keep);
    co_return true;
}

} // namespace sfbridge::bridge
