#include "test/chaos/faults.hpp"

#include "core/lifecycle.hpp"
#include "test/chaos/util.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <csignal>

namespace sfbridge::chaos {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using std::chrono::milliseconds;

namespace {
std::string share(long percent) {
    return std::to_string(static_cast<double>(percent) / 100.0);
}
} // namespace

asio::awaitable<void> fault_runner::put_settings() {
    std::string body = "{";
    for (const auto& [k, v] : settings_)
        body += (body.size() > 1 ? "," : "") + ("\"" + k + "\":" + v);
    body += "}";
    (void)co_await w_.control(http::verb::put, "/__sim/faults", body, 5);
}

asio::awaitable<bool> fault_runner::sql(const std::vector<std::string>& statements) {
    pg::connection c(co_await asio::this_coro::executor);
    if (!co_await w_.connect(c))
        co_return false;
    for (const auto& q : statements) {
        pg::diagnostics d;
        if (co_await c.async_exec(q, d)) {
            problems_.push_back("a fault's SQL failed: " + q + ": " + d.summary());
            co_return false;
        }
    }
    co_return true;
}

std::string fault_runner::trigger_off(const object_spec& s) const {
    return "DROP TRIGGER IF EXISTS chaos_refuse ON \"" + schema_ + "\".\"" + s.table + "\"";
}

// The app's trigger: raises for about one row in eight (by the record's marker, so the same
// records each time), on every write of them, the app's and sfbridge's alike.
asio::awaitable<void> fault_runner::app_trigger(const fault& f) {
    const auto spec = std::find_if(objects_.begin(), objects_.end(),
                                   [&](const object_spec& s) { return s.object == f.object; });
    if (spec == objects_.end())
        co_return;
    const std::string fn = "\"" + schema_ + "\".chaos_refuse";
    std::string marker = spec->marker;
    for (auto& ch : marker)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    // Named: GCC 12 miscompiles braced temporaries in a co_await expression.
    const std::vector<std::string> on{
        "CREATE OR REPLACE FUNCTION " + fn +
            "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF hashtext(coalesce(to_jsonb(NEW) "
            "->> TG_ARGV[0], '')) % 8 = 0 THEN RAISE EXCEPTION 'the app refuses %', "
            "to_jsonb(NEW) ->> TG_ARGV[0]; END IF; RETURN NEW; END $$",
        trigger_off(*spec),
        "CREATE TRIGGER chaos_refuse BEFORE INSERT OR UPDATE ON \"" + schema_ + "\".\"" +
            spec->table + "\" FOR EACH ROW EXECUTE FUNCTION " + fn + "('" + marker + "')"};
    (void)co_await sql(on);
    co_await pause(milliseconds(f.duration_ms));
    const std::vector<std::string> off{trigger_off(*spec)};
    (void)co_await sql(off);
}

asio::awaitable<void> fault_runner::run(const std::vector<fault>& plan,
                                        std::chrono::steady_clock::time_point start,
                                        std::chrono::steady_clock::time_point until) {
    const auto ex = co_await asio::this_coro::executor;
    for (const auto& f : plan) {
        ++running_;
        asio::co_spawn(ex, one(f, start), [this, f](std::exception_ptr e) {
            --running_;
            if (!e)
                return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                problems_.push_back("the fault " + describe(f) +
                                    " could not be carried out: " + x.what());
            }
        });
    }
    co_await supervise(until);
}

// The supervisor a deployment has: sfbridge that exits by itself is started again.
asio::awaitable<void> fault_runner::supervise(std::chrono::steady_clock::time_point until) {
    while (running_ > 0 || std::chrono::steady_clock::now() < until) {
        co_await pause(milliseconds(200));
        if (bridge_held_)
            continue;
        const int rc = w_.bridge_exited();
        if (rc >= 0) {
            // Exit code 2 at start while Postgres is away is expected (the start needs it);
            // the log scan reports loops that died.
            ++injected_["(sfbridge exited by itself, restarted)"];
            co_await pause(milliseconds(500));
            w_.start_bridge();
        }
    }
}

asio::awaitable<void> fault_runner::one(fault f, std::chrono::steady_clock::time_point start) {
    co_await pause_until(start + milliseconds(f.at_ms));
    // Counted when carried out (a skipped kill, a second skew are not).
    if (f.kind != fault_kind::sigkill && f.kind != fault_kind::sigterm &&
        f.kind != fault_kind::clock_skew)
        ++injected_[std::string(name(f.kind))];
    const milliseconds lasting(f.duration_ms);
    switch (f.kind) {
    case fault_kind::expire_tokens:
        (void)co_await w_.control(http::verb::post, "/__sim/faults/expire-tokens", {}, 5);
        break;
    case fault_kind::forget_clients:
        (void)co_await w_.control(http::verb::post, "/__sim/faults/forget-clients", {}, 5);
        break;
    case fault_kind::lose_retention:
        (void)co_await w_.control(http::verb::post, "/__sim/faults/lose-retention", {}, 5);
        break;
    case fault_kind::drop_connections:
        (void)co_await w_.control(http::verb::post, "/__sim/faults/drop-connections", {}, 5);
        break;
    case fault_kind::fail_share:
    case fault_kind::lock_share:
    case fault_kind::stall:
    case fault_kind::api_budget:
    case fault_kind::answer_dropped:
    case fault_kind::answer_500:
    case fault_kind::answer_502:
    case fault_kind::answer_late: {
        std::string key, value;
        switch (f.kind) {
        case fault_kind::fail_share:
            key = "failShare", value = share(f.value);
            break;
        case fault_kind::lock_share:
            key = "lockShare", value = share(f.value);
            break;
        case fault_kind::stall:
            key = "stall", value = "true";
            break;
        case fault_kind::api_budget:
            key = "apiDailyLimit", value = "1";
            break;
        default: {
            key = "afterApply";
            // Writes only (sfbridge writes back through collections): a poll or a describe
            // must not use the answers up.
            const std::string object = ",\"api\":\"collections\"" +
                                       (f.object.empty() ? "" : ",\"object\":\"" + f.object + "\"");
            const std::string count = ",\"count\":" + std::to_string(f.value);
            if (f.kind == fault_kind::answer_dropped)
                value = "{\"action\":\"drop\"" + object + count + "}";
            else if (f.kind == fault_kind::answer_late) // past sfbridge's deadline (world.cpp)
                value = "{\"action\":\"delay\",\"delayMs\":" +
                        std::to_string((bridge_request_timeout_s + 10) * 1000) + object + count +
                        "}";
            else
                value = "{\"action\":\"status\",\"status\":" +
                        std::string(f.kind == fault_kind::answer_500 ? "500" : "502") + object +
                        count + "}";
        }
        }
        settings_[key] = value;
        co_await put_settings();
        if (key == "afterApply") {
            // Armed once: sent again with a later change, its count would start over.
            settings_.erase(key);
            break;
        }
        co_await pause(lasting);
        // Not replaced by a later fault of the same kind, nor ended by it (find, not [], which
        // would put an empty setting back).
        if (const auto it = settings_.find(key); it != settings_.end() && it->second == value) {
            settings_.erase(key);
            co_await put_settings();
        }
        break;
    }
    case fault_kind::clock_skew: // set before sfbridge starts (campaign.cpp), counted there
        break;
    case fault_kind::pg_terminate: {
        pg::connection c(co_await asio::this_coro::executor);
        if (co_await w_.connect(c)) {
            pg::result r;
            pg::diagnostics d;
            (void)co_await c.async_query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = "
                "'client backend' AND pid <> pg_backend_pid() AND application_name <> 'chaos'",
                r, d);
        }
        break;
    }
    case fault_kind::pg_restart_fast:
        (void)w_.pg_ctl("restart -m fast -w");
        break;
    case fault_kind::pg_restart_crash:
        (void)w_.pg_ctl("restart -m immediate -w");
        break;
    case fault_kind::pg_cut:
        w_.gate().set_blackhole(true);
        co_await pause(lasting);
        w_.gate().set_blackhole(false);
        break;
    case fault_kind::pg_reset:
        w_.gate().drop_all();
        break;
    case fault_kind::pg_timeout: // the campaign's own sessions keep theirs off (world::connect)
    {
        const std::vector<std::string> lower{"ALTER SYSTEM SET statement_timeout = " +
                                                 std::to_string(f.value),
                                             "SELECT pg_reload_conf()"};
        (void)co_await sql(lower);
        co_await pause(lasting);
        const std::vector<std::string> reset{"ALTER SYSTEM RESET statement_timeout",
                                             "SELECT pg_reload_conf()"};
        (void)co_await sql(reset);
        break;
    }
    case fault_kind::app_trigger:
        co_await app_trigger(f);
        break;
    case fault_kind::sigkill:
    case fault_kind::sigterm: {
        if (bridge_held_ || !w_.bridge_running())
            break;
        ++injected_[std::string(name(f.kind))];
        bridge_held_ = true;
        const int sig = f.kind == fault_kind::sigkill ? SIGKILL : SIGTERM;
        const int rc = co_await w_.stop_bridge(sig);
        if (sig == SIGTERM && rc != 0)
            problems_.push_back("sfbridge exited with " + std::to_string(rc) +
                                " after SIGTERM (expected 0)");
        co_await pause(lasting);
        w_.start_bridge();
        bridge_held_ = false;
        break;
    }
    }
}

asio::awaitable<void> fault_runner::clear_all() {
    settings_.clear();
    co_await put_settings();
    w_.gate().set_blackhole(false);
    if (!w_.pg_ctl("status"))
        (void)w_.pg_ctl("start -w");
    std::vector<std::string> undo{"ALTER SYSTEM RESET statement_timeout",
                                  "SELECT pg_reload_conf()"};
    for (const auto& s : objects_)
        undo.push_back(trigger_off(s));
    (void)co_await sql(undo);
    if (!w_.bridge_running())
        w_.start_bridge();
}

} // namespace sfbridge::chaos
