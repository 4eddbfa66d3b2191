#include "bridge/provision.hpp"

#include "bridge/error_log.hpp"
#include "bridge/leadership_sql.hpp"
#include "bridge/schema_change.hpp"
#include "bridge/schema_follow.hpp"
#include "bridge/state_sql.hpp"
#include "core/log.hpp"
#include "mappings/ddl.hpp"
#include "salesforce/push_topics.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

asio::awaitable<error_code> describe_and_resolve(salesforce::rest_client& rest,
                                                 const mappings::mapping_file& file,
                                                 resolution& out, salesforce::diagnostics& diag,
                                                 bool set_budgets) {
    for (const auto& m : file.mappings) {
        std::string json;
        salesforce::diagnostics sd;
        auto ec = co_await rest.describe(m.object_name, json, sd);
        std::optional<mappings::object_describe> d;
        if (!ec) {
            std::string perr;
            d = mappings::parse_describe(json, perr);
            if (!d)
                out.errors.push_back("mapping " + m.object_name + ": describe unreadable: " + perr);
        } else if (sd.http_status != 404) {
            diag = sd;
            out.failed_object = m.object_name;
            co_return ec;
        }
        auto r = mappings::resolve_mapping(m, d ? &*d : nullptr, out.errors, out.warnings);
        if (r) {
            if (set_budgets)
                rest.usage().set_budget(r->object_name, m.sf_max_daily_api_calls);
            out.mappings.push_back(std::move(*r));
        }
    }
    co_return error_code{};
}

namespace {

// One mapping's table and state row.
asio::awaitable<bool> prepare_mapping(table_writer& w, const engine_config& cfg, mapping_runtime& m,
                                      std::string& error) {
    pg::diagnostics pd;
    pg::result cols;
    auto ec = co_await w.query(mappings::ddl::existing_columns_query(),
                               pg::params(cfg.schema, m.m.table), cols, pd);
    std::vector<std::string> existing;
    std::map<std::string, int> lengths;
    std::map<std::string, mappings::ddl::existing_column> types;
    for (int i = 0; !ec && i < cols.rows(); ++i) {
        existing.emplace_back(cols.value(i, 0));
        lengths[existing.back()] = std::atoi(std::string(cols.value(i, 1)).c_str());
        types[existing.back()] = {std::string(cols.value(i, 2)), lengths[existing.back()]};
    }
    if (ec) {
        error = "reading the columns of " + m.m.table + " failed: " + pd.summary();
        co_return false;
    }
    // What the last start kept: the column signature, columns left to back-fill, the fields'
    // Salesforce types.
    pg::result r;
    ec = co_await w.query(state_sql::stored_signature(cfg.schema), pg::params(m.m.object_name), r,
                          pd);
    if (ec) {
        error = "reading sfbridge's state for " + m.m.object_name + " failed: " + pd.summary();
        co_return false;
    }
    const bool known = r.rows() == 1;
    const std::string stored = known ? std::string(r.value(0, 0)) : std::string();
    const auto pending =
        known ? schema_change::split_columns(r.value(0, 1)) : std::vector<std::string>();
    const std::string stored_types = known ? std::string(r.value(0, 2)) : std::string();
    followed_schema followed;
    if (!co_await follow_schema(w, cfg.schema, m, types, stored_types, followed, error))
        co_return false;
    ec = co_await w.exec(mappings::ddl::ensure_table(cfg.schema, m.m, existing), pd);
    // A field Salesforce made longer widens its column, before a longer value is refused.
    const std::string widen = mappings::ddl::widen_columns(cfg.schema, m.m, lengths);
    if (!ec && !widen.empty()) {
        ec = co_await w.exec(widen, pd);
        if (!ec)
            log::info("sync", "widened columns to their fields' length in Salesforce",
                      {{"mapping", m.m.object_name}});
    }
    if (ec) {
        error = "creating the table for " + m.m.object_name + " failed: " + pd.summary();
        co_return false;
    }
    for (const auto& message : m.schema_warnings)
        co_await record_error(w, m, "schema", 0, message, std::string());
    const std::string columns = state_sql::load_signature(m.m);
    bool reload =
        std::find(cfg.reload.begin(), cfg.reload.end(), m.m.object_name) != cfg.reload.end();
    // Added columns are back-filled, and so are retyped ones that followed (their values are
    // Postgres's casts); removed ones are kept; a changed row filter loads the table again
    // (bridge/schema_change); a reload asked for clears it first.
    const auto diff = schema_change::compare(stored, columns);
    const auto backfill = schema_change::backfill_after(pending, diff, m.m, followed.columns);
    // Named before the co_await: GCC 12 mishandles a ?: of temporaries inside one.
    std::optional<std::string> backfill_text;
    if (!backfill.empty())
        backfill_text = schema_change::join_columns(backfill);
    const pg::params state_params(m.m.object_name, m.m.table, mappings::ddl::schema_version,
                                  columns, reload, diff.reload, backfill_text,
                                  followed.field_types);
    ec = co_await w.query(state_sql::upsert_state(cfg.schema), state_params, r, pd);
    if (ec || r.rows() != 1) {
        error = "reading sfbridge's state for " + m.m.object_name + " failed: " + pd.summary();
        co_return false;
    }
    reload = reload || r.value(0, 0) == "reload"; // asked for by `sfbridge reload`
    m.loaded = !reload && r.value(0, 0) == "loaded";
    // (The list is kept in _sfbridge_state; the replica that leads the mapping reads it there,
    // read_lead_state, and back-fills.)
    if (m.loaded && !backfill.empty())
        log::info(
            "sync", "fields added to a loaded mapping: their columns are back-filled",
            {{"mapping", m.m.object_name}, {"columns", schema_change::join_columns(backfill)}});
    if (!diff.removed.empty())
        log::info(
            "sync", "fields no longer mapped: their columns are kept, no longer synced",
            {{"mapping", m.m.object_name}, {"columns", schema_change::join_columns(diff.removed)}});
    if (!r.is_null(0, 1))
        m.replay_id = std::stoll(std::string(r.value(0, 1)));
    if (!r.is_null(0, 2))
        m.poll_high_water_ms = std::stoll(std::string(r.value(0, 2)));
    if (!r.is_null(0, 3))
        m.deleted_high_water_ms = std::stoll(std::string(r.value(0, 3)));
    if (!reload)
        co_return true;
    // Not cleared: the app keeps reading the table, and rows of a read-write mapping not yet
    // sent to Salesforce (no sfid) must survive. The load merges, then removes the rows whose
    // records it did not see.
    ec = co_await w.query(state_sql::forget_replay_id(cfg.schema), pg::params(m.m.object_name), r,
                          pd);
    if (ec) {
        error = "preparing the reload of " + m.m.table + " failed: " + pd.summary();
        co_return false;
    }
    m.replay_id.reset();
    log::info("sync", "loading again (reload)", {{"mapping", m.m.object_name}});
    co_return true;
}

void log_ready(const std::string& schema, const mapping_runtime& m) {
    log::info("sync", "mapping ready",
              {{"mapping", m.m.object_name},
               {"table", schema + "." + m.m.table},
               {"channel", m.channel},
               {"fetch_on_notify", m.fetch_on_notify ? "true" : "false"}});
}

} // namespace

asio::awaitable<bool> prepare_tables(table_writer& w, const engine_config& cfg,
                                     std::vector<std::unique_ptr<mapping_runtime>>& maps,
                                     std::string& error) {
    pg::diagnostics pd;
    error_code ec;
    // Another replica's write-back may be using the tables the DDL locks: a deadlock (or a lock
    // wait past lock_timeout) picks one side, and the start tries again rather than failing.
    for (int attempt = 1; attempt <= 5; ++attempt) {
        pd.clear();
        ec = co_await w.exec(mappings::ddl::setup_schema(cfg.schema), pd);
        if (!ec)
            ec = co_await w.exec(leadership_sql::setup(cfg.schema), pd);
        const bool contended =
            pd.sqlstate == "40P01" || pd.sqlstate == "40001" || pd.sqlstate == "55P03";
        if (!ec || !contended || !w.is_open())
            break;
        pg::diagnostics ignore;
        (void)co_await w.exec("ROLLBACK", ignore);
        log::info("sync", "the schema's set-up met another session's locks; trying again",
                  {{"attempt", attempt}, {"error", pd.summary()}});
        asio::steady_timer pause(co_await asio::this_coro::executor,
                                 std::chrono::milliseconds(200 * attempt));
        co_await pause.async_wait(asio::use_awaitable);
    }
    if (ec) {
        error = "creating the schema " + cfg.schema + " failed: " + pd.summary();
        co_return false;
    }
    for (auto& m : maps)
        if (!co_await prepare_mapping(w, cfg, *m, error))
            co_return false;
    w.positions_confirmed(); // every mapping's positions were just read on this session
    co_return true;
}

// No DDL here: the tables were prepared at the start, and ALTERs or trigger changes on the
// app's tables at every hand-over would wait behind the app's own transactions.
asio::awaitable<bool> read_lead_state(table_writer& w, const engine_config& cfg,
                                      std::vector<std::unique_ptr<mapping_runtime>>& maps,
                                      std::string& error) {
    for (auto& m : maps) {
        pg::diagnostics pd;
        pg::result r;
        if (co_await w.query(state_sql::lead_state(cfg.schema), pg::params(m->m.object_name), r,
                             pd) ||
            r.rows() != 1) {
            error = "reading sfbridge's state for " + m->m.object_name + " failed: " + pd.summary();
            co_return false;
        }
        // A reload asked for (`--reload` at a start, `sfbridge reload`) loads again.
        m->loaded = r.value(0, 0) == "loaded";
        m->replay_id.reset();
        if (!r.is_null(0, 1) && r.value(0, 0) != "reload")
            m->replay_id = std::stoll(std::string(r.value(0, 1)));
        if (!r.is_null(0, 2))
            m->poll_high_water_ms = std::stoll(std::string(r.value(0, 2)));
        if (!r.is_null(0, 3))
            m->deleted_high_water_ms = std::stoll(std::string(r.value(0, 3)));
        // What is left to back-fill now (another replica may have done it, a load cleared it).
        // Only columns this replica maps (an older one, in a rolling deploy, may not).
        m->backfill_columns.clear();
        if (m->loaded)
            for (auto& c : schema_change::split_columns(r.value(0, 4)))
                if (m->m.by_column(c))
                    m->backfill_columns.push_back(std::move(c));
    }
    w.positions_confirmed();
    co_return true;
}

asio::awaitable<bool> provision_channels(salesforce::rest_client& rest, const std::string& schema,
                                         std::vector<std::unique_ptr<mapping_runtime>>& maps,
                                         std::string& error) {
    std::vector<salesforce::topic_spec> specs;
    for (auto& m : maps)
        if (m->m.config.sf_notify_enabled && !m->m.options.change_data_capture)
            specs.push_back(salesforce::topic_spec{m->m.object_name, m->m.field_names()});
    std::vector<salesforce::provisioned_topic> topics;
    salesforce::diagnostics sd;
    auto ec = co_await salesforce::ensure_push_topics(rest, specs, topics, sd);
    if (ec) {
        error = "provisioning PushTopics failed: " + sd.summary();
        co_return false;
    }
    std::string refused;
    for (const auto& t : topics)
        for (auto& m : maps)
            if (m->m.object_name == t.object && t.over_limit) {
                // Polled only (its channel stays empty): the start goes on.
                refused += (refused.empty() ? "" : ", ") + t.object;
                log_ready(schema, *m);
            } else if (m->m.object_name == t.object) {
                m->channel = "/topic/" + t.name;
                // With a row filter, Salesforce decides which notified records match (and which
                // left): each is fetched through the filter.
                m->fetch_on_notify = t.fetch_on_notify || m->m.options.filter.has_value();
                log_ready(schema, *m);
            }
    if (!refused.empty())
        log::warn("salesforce",
                  "the org's PushTopic limit is reached: these mappings are polled, not streamed "
                  "(delete PushTopics the org no longer uses, or stream them by Change Data "
                  "Capture: \"sfbridge_stream\": \"cdc\")",
                  {{"mappings", refused}});
    for (auto& m : maps)
        if (m->m.config.sf_notify_enabled && m->m.options.change_data_capture) {
            // Change Data Capture: nothing to provision (the object must be selected for CDC in
            // Setup; subscribing fails otherwise, and polling still keeps the table right).
            m->channel = mappings::change_event_channel(m->m.object_name);
            m->fetch_on_notify = m->m.options.filter.has_value();
            log_ready(schema, *m);
        }
    co_return true;
}

} // namespace sfbridge::bridge
