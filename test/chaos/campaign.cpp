#include "test/chaos/campaign.hpp"

#include "core/lifecycle.hpp"
#include "test/chaos/faults.hpp"
#include "test/chaos/plan.hpp"
#include "test/chaos/soak.hpp"
#include "test/chaos/util.hpp"
#include "test/chaos/workload.hpp"
#include "test/chaos/world.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sfbridge::chaos {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

std::vector<object_spec> campaign_objects() {
    return {
        {"Contact", "contact", "Department", "LastName", "Title", "Description", "", false},
        {"Sim_Everything__c", "sim_everything__c", "External_Id__c", "Name", "Text__c",
         "LongTextArea__c", "External_Id__c", false},
        {"Account", "account", "Site", "Name", "AccountNumber", "Description", "", true},
    };
}

std::vector<fault> campaign_plan(const campaign_options& o) {
    plan_options po;
    po.run_ms = o.seconds * 1000;
    po.faults = o.faults;
    for (const auto& s : campaign_objects())
        po.objects.push_back(s.object);
    return make_plan(o.seed, po);
}

// `budget`: each mapping's sf_max_daily_api_calls, when not Heroku Connect's default of 30,000
// (the soak's load spends that in under half an hour: a soak measures growth, not the budget).
std::string mapping_file(const std::vector<object_spec>& objects, long budget) {
    std::string out = R"({"version":1,"mappings":[)";
    for (std::size_t i = 0; i < objects.size(); ++i) {
        const auto& s = objects[i];
        out += (i ? "," : "") + std::string(R"({"object_name":")") + s.object +
               R"(","config":{"access":"read_write","sf_notify_enabled":true,)"
               R"("sf_polling_seconds":600,)";
        if (budget > 0)
            out += R"("sf_max_daily_api_calls":)" + std::to_string(budget) + ",";
        if (!s.upsert_field.empty())
            out += R"("upsert_field":")" + s.upsert_field + "\",";
        if (s.cdc)
            out += R"("sfbridge_stream":"cdc",)";
        out += R"("fields":{"Id":{})";
        for (const auto& f : s.fields())
            out += ",\"" + f + "\":{}";
        out += "}}}";
    }
    return out + "]}";
}

namespace {

asio::awaitable<std::vector<std::string>> column(pg::connection& c, const std::string& sql) {
    pg::result r;
    pg::diagnostics d;
    std::vector<std::string> out;
    if (co_await c.async_query(sql, r, d))
        throw std::runtime_error(sql + ": " + d.summary());
    for (int i = 0; i < r.rows(); ++i)
        out.emplace_back(r.is_null(i, 0) ? "" : r.value(i, 0));
    co_return out;
}

// One seed's run, on the io_context of run_campaign.
class campaign {
public:
    campaign(asio::io_context& io, const campaign_options& o)
        : o_(o), objects_(campaign_objects()), schema_("chaos_" + std::to_string(o.seed)),
          dir_(o.workdir + "/seed-" + std::to_string(o.seed)), w_(io, world_opts()) {}

    asio::awaitable<void> run(campaign_result& res);

private:
    world_options world_opts() {
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        std::ofstream(dir_ + "/mappings.json")
            << mapping_file(objects_, o_.soak_minutes > 0 ? 100'000'000 : 0);
        const bool soak = o_.soak_minutes > 0;
        return {o_.sfsim,
                o_.sfbridge,
                o_.dsn,
                o_.pg_ctl,
                dir_,
                schema_,
                dir_ + "/mappings.json",
                o_.seed,
                soak ? soak_bridge_args() : std::vector<std::string>{},
                soak ? soak_bridge_env() : std::vector<std::string>{}};
    }
    asio::awaitable<void> prepare(const std::vector<fault>& plan);
    asio::awaitable<bool> converge(pg::connection& c, std::vector<finding>& last);
    asio::awaitable<std::set<std::string>> failed_inserts(pg::connection& c, const object_spec& s);
    asio::awaitable<std::vector<finding>> compare(pg::connection& c, const object_spec& s);
    asio::awaitable<void> check(pg::connection& c, const workload& wl, std::vector<finding>& out);
    asio::awaitable<void> check_false_conflicts(pg::connection& c, const object_spec& s,
                                                std::vector<finding>& out);
    asio::awaitable<void> live(pg::connection& c, std::vector<finding>& out);
    void scan_logs(std::vector<finding>& out) const;
    [[nodiscard]] std::string table(const object_spec& s) const {
        return "\"" + schema_ + "\".\"" + s.table + "\"";
    }

    const campaign_options& o_;
    std::vector<object_spec> objects_;
    std::string schema_, dir_;
    world w_;
};

asio::awaitable<void> campaign::prepare(const std::vector<fault>& plan) {
    pg::connection c(co_await asio::this_coro::executor);
    if (!co_await w_.connect(c))
        throw std::runtime_error("the test cluster is unreachable");
    pg::diagnostics d;
    (void)co_await c.async_exec("DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE", d);
    // A statement_timeout fault of a campaign that was killed may still be in force.
    (void)co_await c.async_exec("ALTER SYSTEM RESET statement_timeout", d);
    (void)co_await c.async_exec("SELECT pg_reload_conf()", d);
    // A skew is constant: Salesforce's clock is set once, before any record exists.
    for (const auto& f : plan)
        if (f.kind == fault_kind::clock_skew) {
            (void)co_await w_.control(http::verb::put, "/__sim/clock",
                                      "{\"offsetMs\":" + std::to_string(f.value) + "}");
            break;
        }
    // Records from before the start: the initial load brings them.
    for (const auto& s : objects_) {
        std::string body = "[";
        for (int i = 0; i < 20; ++i)
            body += std::string(i ? "," : "") + "{\"" + s.marker + "\":\"sf-" +
                    std::to_string(o_.seed) + "-init-" + std::to_string(i) + "\",\"" + s.shared +
                    "\":\"Initial " + std::to_string(i) + "\"}";
        (void)co_await w_.control(http::verb::post, "/__sim/records/" + s.object, body + "]");
    }
    w_.start_bridge();
    for (int i = 0; i < 1800; ++i) {
        const auto loaded =
            co_await scalar(c, "SELECT count(*) FROM \"" + schema_ +
                                   "\"._sfbridge_state WHERE load_state = 'loaded'");
        if (loaded == std::to_string(objects_.size()))
            co_return;
        if (w_.bridge_exited() >= 0)
            w_.start_bridge();
        co_await pause(milliseconds(100));
    }
    throw std::runtime_error("the mappings did not load within 180 s: see " + dir_ +
                             "/sfbridge.log");
}

asio::awaitable<std::set<std::string>> campaign::failed_inserts(pg::connection& c,
                                                                const object_spec& s) {
    // Refused, and never made since: an app UPDATE of a refused row sends its insert again
    // (with the row's values), which may have made the record. In either table (processed
    // entries move to the archive within a minute).
    const std::string q = "\"" + schema_ + "\".";
    const auto v = co_await column(
        c, "SELECT m.\"" + lower(s.marker) + "\" FROM (SELECT * FROM " + q +
               "_trigger_log UNION ALL SELECT * FROM " + q + "_trigger_log_archive) l JOIN " +
               table(s) + " m ON m.id = l.record_id WHERE l.table_name = '" + s.table +
               "' AND l.action = 'INSERT' AND l.state = 'FAILED' AND m.sfid IS NULL");
    co_return std::set<std::string>(v.begin(), v.end());
}

asio::awaitable<std::vector<finding>> campaign::compare(pg::connection& c, const object_spec& s) {
    const auto failed = co_await failed_inserts(c, s);
    auto rows = co_await w_.table_rows(c, s);
    std::erase_if(rows, [&](const table_row& r) {
        auto m = r.fields.find(s.marker);
        return !r.sfid && m != r.fields.end() && m->second && failed.count(*m->second);
    });
    const auto records = co_await w_.sim_records(s);
    co_return compare_table(s, records, rows);
}

// Waits until nothing is left to send and every table equals sfsim's records.
asio::awaitable<bool> campaign::converge(pg::connection& c, std::vector<finding>& last) {
    const auto until = steady_clock::now() + seconds(420);
    while (steady_clock::now() < until) {
        if (w_.bridge_exited() >= 0)
            w_.start_bridge(); // the supervisor's job, now that the faults are over
        const auto pending = co_await scalar(c, "SELECT count(*) FROM \"" + schema_ +
                                                    "\"._trigger_log WHERE state IN ('NEW', "
                                                    "'PENDING')");
        if (pending == "0") {
            last.clear();
            for (const auto& s : objects_) {
                auto f = co_await compare(c, s);
                last.insert(last.end(), f.begin(), f.end());
            }
            if (last.empty())
                co_return true;
        } else {
            last = {{"nothing is left NEW or PENDING", pending + " trigger-log rows still are"}};
        }
        co_await pause(milliseconds(1000));
    }
    co_return false;
}

asio::awaitable<void> campaign::check(pg::connection& c, const workload& wl,
                                      std::vector<finding>& out) {
    for (const auto& s : objects_) {
        const auto& led = wl.ledger(s.object);
        const auto records = co_await w_.sim_records(s);
        const auto failed = co_await failed_inserts(c, s);
        auto f = check_inserts(s, led.inserted, failed, records);
        out.insert(out.end(), f.begin(), f.end());
        std::set<std::string> uncertain_dupes;
        for (const auto& m : led.uncertain) {
            std::size_t n = 0;
            for (const auto& r : records)
                n += r.fields.count(s.marker) && r.fields.at(s.marker) == m;
            if (n > 1)
                out.push_back({"every app INSERT is exactly one Salesforce record",
                               s.object + " insert " + m + " (its COMMIT answer lost) became " +
                                   std::to_string(n) + " records"});
        }
        std::map<std::string, std::string> last = led.last_value;
        for (const auto& t : led.tainted)
            last.erase(t);
        f = check_app_values(s, last, records);
        out.insert(out.end(), f.begin(), f.end());
        std::map<std::string, shared_write> shared = led.last_shared;
        for (const auto& t : led.tainted)
            shared.erase(t);
        const auto lost = co_await column(c, "SELECT sfid || '|' || field FROM \"" + schema_ +
                                                 "\"._sfbridge_conflicts WHERE object_name = '" +
                                                 s.object + "' AND winner = 'salesforce'");
        f = check_shared(s, shared, led.sf_shared_at, {lost.begin(), lost.end()}, records);
        out.insert(out.end(), f.begin(), f.end());
        co_await check_false_conflicts(c, s, out);
    }
    const auto reasonless = co_await column(
        c, "SELECT table_name || ' ' || action || ' id ' || id FROM (SELECT * FROM \"" + schema_ +
               "\"._trigger_log UNION ALL SELECT * FROM \"" + schema_ +
               "\"._trigger_log_archive) l WHERE state = 'FAILED' AND coalesce(sf_message, '') = "
               "''");
    for (const auto& r : reasonless)
        out.push_back({"every FAILED row says why", r + " FAILED without a message"});
}

// No Salesforce user changes the app-only field, so a conflict on it that Salesforce won is
// false even when the app wrote the field again later (which hides the loss from
// check_app_values). The finding carries the record's trigger-log history, the evidence a
// diagnosis needs once the schema is gone.
asio::awaitable<void> campaign::check_false_conflicts(pg::connection& c, const object_spec& s,
                                                      std::vector<finding>& out) {
    const std::string q = "\"" + schema_ + "\".";
    const auto conflicts = co_await column(
        c, "SELECT sfid || ' ' || coalesce(trigger_log_id::text, '') || ' kept ' || "
           "coalesce(left(kept_value, 60), 'NULL') || ' lost ' || "
           "coalesce(left(lost_value, 60), 'NULL') FROM " +
               q + "_sfbridge_conflicts WHERE object_name = '" + s.object +
               "' AND winner = 'salesforce' AND field = '" + lower(s.app_only) + "'");
    for (const auto& k : conflicts) {
        const std::string sfid = k.substr(0, k.find(' '));
        const auto history = co_await scalar(
            c, "SELECT string_agg(l.id || ' ' || l.action || ' ' || l.state || ' created ' || "
               "l.created_at || ' processed ' || coalesce(l.processed_at::text, '-') || ' ' || "
               "coalesce(left(l.\"values\", 160), '-') || ' old ' || coalesce(left(l.old, 160), "
               "'-'), '; ' ORDER BY l.id) FROM (SELECT * FROM " +
                   q + "_trigger_log UNION ALL SELECT * FROM " + q +
                   "_trigger_log_archive) l WHERE l.table_name = '" + lower(s.object) +
                   "' AND l.record_id IN (SELECT id FROM " + table(s) + " WHERE sfid = '" + sfid +
                   "' UNION SELECT record_id FROM " + q + "_trigger_log WHERE sfid = '" + sfid +
                   "' UNION SELECT record_id FROM " + q + "_trigger_log_archive WHERE sfid = '" +
                   sfid + "')");
        const auto row = co_await scalar(c, "SELECT systemmodstamp || ' ' || coalesce(left(\"" +
                                                lower(s.app_only) + "\", 60), 'NULL') FROM " +
                                                table(s) + " WHERE sfid = '" + sfid + "'");
        out.push_back({"a field only the app changes never loses a conflict to Salesforce",
                       s.object + " " + k + " | row now " + row + " | trigger log: " + history});
    }
}

// A change made after quiescence still arrives (the figures are printed; 10 s is the limit,
// far above the milliseconds it takes, so that a loaded machine does not fail it).
asio::awaitable<void> campaign::live(pg::connection& c, std::vector<finding>& out) {
    const auto& s = objects_[0];
    const auto sfid = co_await scalar(c, "SELECT sfid FROM " + table(s) +
                                             " WHERE sfid IS NOT NULL ORDER BY id LIMIT 1");
    if (!sfid.empty()) {
        const std::string value = "Live " + std::to_string(o_.seed);
        const auto t0 = steady_clock::now();
        (void)co_await w_.control(http::verb::patch, "/__sim/records/" + s.object,
                                  "[{\"Id\":\"" + sfid + "\",\"" + s.shared + "\":\"" + value +
                                      "\"}]");
        bool seen = false;
        while (!seen && steady_clock::now() - t0 < seconds(10)) {
            seen = co_await scalar(c, "SELECT \"" + lower(s.shared) + "\" FROM " + table(s) +
                                          " WHERE sfid = '" + sfid + "'") == value;
            if (!seen)
                co_await pause(milliseconds(5));
        }
        const auto ms = std::chrono::duration_cast<milliseconds>(steady_clock::now() - t0);
        std::printf("after quiescence: a Salesforce change arrived in %lld ms\n",
                    static_cast<long long>(ms.count()));
        if (!seen)
            out.push_back({"a change after quiescence arrives", "Salesforce -> Postgres took "
                                                                "over 10 s"});
    }
    const auto t0 = steady_clock::now();
    const auto id = co_await scalar(c, "INSERT INTO " + table(s) + " (\"" + lower(s.marker) +
                                           "\", \"" + lower(s.shared) +
                                           "\") VALUES ('live-app', 'Live app') RETURNING id");
    bool linked = false;
    while (!linked && steady_clock::now() - t0 < seconds(10)) {
        linked =
            !(co_await scalar(c, "SELECT sfid FROM " + table(s) + " WHERE id = " + id)).empty();
        if (!linked)
            co_await pause(milliseconds(5));
    }
    const auto ms = std::chrono::duration_cast<milliseconds>(steady_clock::now() - t0);
    std::printf("after quiescence: an app insert was in Salesforce in %lld ms\n",
                static_cast<long long>(ms.count()));
    if (!linked)
        out.push_back(
            {"a change after quiescence arrives", "Postgres -> Salesforce took over 10 s"});
}

void campaign::scan_logs(std::vector<finding>& out) const {
    const std::string logs = w_.bridge_logs();
    for (const char* needle :
         {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
          "runtime error:", "a loop ended by an exception", "exiting after an unexpected error"}) {
        const auto at = logs.find(needle);
        if (at == std::string::npos)
            continue;
        const auto start = logs.rfind('\n', at);
        const auto end = logs.find('\n', at);
        out.push_back({"no crash and no sanitizer report",
                       logs.substr(start == std::string::npos ? 0 : start + 1,
                                   std::min<std::size_t>(400, end - start))});
    }
}

asio::awaitable<void> campaign::run(campaign_result& res) {
    const bool soak = o_.soak_minutes > 0;
    const long seconds_of_changes = soak ? o_.soak_minutes * 60 : o_.seconds;
    const auto plan = soak ? soak_plan(seconds_of_changes * 1000) : campaign_plan(o_);
    std::printf("\n== %s %llu: %ld s of changes, %zu faults (logs in %s)\n",
                soak ? "soak, seed" : "seed", static_cast<unsigned long long>(o_.seed),
                seconds_of_changes, plan.size(), dir_.c_str());
    for (const auto& f : plan)
        std::printf("  %s\n", describe(f).c_str());
    std::fflush(stdout);

    w_.start_sfsim();
    co_await prepare(plan);
    const auto start = steady_clock::now();
    const auto until = start + seconds(seconds_of_changes);
    workload wl(w_, objects_, schema_, o_.seed);
    std::vector<series> samples;
    async_flag sampled(co_await asio::this_coro::executor);
    if (soak) {
        wl.cap_rows(o_.soak_rows);
        asio::co_spawn(co_await asio::this_coro::executor,
                       sample(w_, schema_, objects_[1], until, samples), [&](std::exception_ptr e) {
                           sampled.set();
                           if (!e)
                               return;
                           try {
                               std::rethrow_exception(e);
                           } catch (const std::exception& x) {
                               res.findings.push_back({"the soak ran", x.what()});
                           }
                       });
    } else {
        sampled.set();
    }
    fault_runner faults(w_, schema_, objects_);
    async_flag changes_done(co_await asio::this_coro::executor);
    std::string workload_error;
    asio::co_spawn(co_await asio::this_coro::executor, wl.run(until), [&](std::exception_ptr e) {
        changes_done.set();
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            workload_error = x.what();
        }
    });
    for (const auto& f : plan)
        if (f.kind == fault_kind::clock_skew) {
            faults.count(std::string(name(f.kind))); // set by prepare(), the first one only
            break;
        }
    co_await faults.run(plan, start, until);
    co_await changes_done.wait();
    co_await sampled.wait();
    for (const auto& one : samples) {
        res.soak.push_back(judge(one));
        if (res.soak.back().failed)
            res.findings.push_back(
                {"nothing grows without bound, latency does not drift", describe(res.soak.back())});
    }
    if (!workload_error.empty())
        res.findings.push_back({"the campaign ran", "the changes stopped: " + workload_error});

    co_await faults.clear_all();
    pg::connection c(co_await asio::this_coro::executor);
    for (int i = 0; i < 600 && !co_await w_.connect(c); ++i)
        co_await pause(milliseconds(100));
    const auto q0 = steady_clock::now();
    std::vector<finding> last;
    const bool converged = co_await converge(c, last);
    std::printf("quiesced: %s in %lld s\n", converged ? "converged" : "did NOT converge",
                static_cast<long long>(
                    std::chrono::duration_cast<seconds>(steady_clock::now() - q0).count()));
    res.findings.insert(res.findings.end(), last.begin(), last.end());
    co_await check(c, wl, res.findings);
    if (converged)
        co_await live(c, res.findings);
    if (w_.bridge_running()) {
        const int rc = co_await w_.stop_bridge(SIGTERM);
        if (rc != 0)
            res.findings.push_back(
                {"a SIGTERM exits 0", "the last stop exited " + std::to_string(rc)});
    }
    for (const auto& p : faults.problems())
        res.findings.push_back({"every fault is carried out, and sfbridge exits as asked", p});
    scan_logs(res.findings);
    res.injected = faults.injected();

    const auto& n = wl.done();
    std::printf("changes: app %ld inserts, %ld updates, %ld deletes (%ld failed under faults); "
                "Salesforce %ld creates, %ld updates, %ld deletes, %ld undeletes (%ld by Bulk); "
                "%ld same-record conflicts; sfbridge started %d times\n",
                n.app_inserts, n.app_updates, n.app_deletes, n.app_failed, n.sf_creates,
                n.sf_updates, n.sf_deletes, n.sf_undeletes, n.sf_bulk, n.conflicts,
                w_.bridge_runs());
}

} // namespace

campaign_result run_campaign(const campaign_options& o) {
    campaign_result res;
    asio::io_context io(1);
    campaign c(io, o);
    asio::co_spawn(io, c.run(res), [&](std::exception_ptr e) {
        io.stop(); // the gate and any fault still running end with the seed
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            res.findings.push_back({"the campaign ran", x.what()});
        }
    });
    io.run();
    res.passed = res.findings.empty();
    if (!res.soak.empty()) {
        std::printf("soak: the second half's fitted rise against each measure's slack\n");
        for (const auto& j : res.soak)
            std::printf("%s\n", describe(j).c_str());
    }
    const std::size_t shown = std::min<std::size_t>(res.findings.size(), 25);
    for (std::size_t i = 0; i < shown; ++i)
        std::printf("  FAIL [%s] %s\n", res.findings[i].invariant.c_str(),
                    res.findings[i].detail.c_str());
    if (res.findings.size() > shown)
        std::printf("  ... and %zu more\n", res.findings.size() - shown);
    std::printf("seed %llu: %s\n", static_cast<unsigned long long>(o.seed),
                res.passed ? "PASSED" : "FAILED");
    std::fflush(stdout);
    return res;
}

} // namespace sfbridge::chaos
