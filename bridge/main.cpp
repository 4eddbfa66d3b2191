// sfbridge: Salesforce <-> Postgres sync, a self-hosted replacement for Heroku Connect.
#include "bridge/engine.hpp"
#include "bridge/settings.hpp"
#include "core/log.hpp"
#include "mappings/ddl.hpp"
#include "mappings/mapping_file.hpp"
#include "mappings/types.hpp"
#include "pg/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace asio = boost::asio;
using namespace sfbridge;

namespace {

constexpr const char* usage =
    R"(sfbridge: keeps Salesforce objects and Postgres tables in sync (Heroku Connect compatible)

usage:
  sfbridge run --mappings FILE [options]       sync until SIGTERM or SIGINT
  sfbridge mappings validate --mappings FILE   check the file against the org's describes
  sfbridge mappings import --mappings FILE     validate, create the tables and PushTopics, exit
  sfbridge mappings export --mappings FILE     print the file in canonical form
  sfbridge reload OBJECT                       load OBJECT again from scratch (a running sfbridge
                                               starts within 2 s, else the next start does)
  sfbridge status                              per mapping: state, rows, last event, lag, errors
  sfbridge errors [--mapping M]                writes Salesforce refused (the trigger log's FAILED rows)
  sfbridge retry [--mapping M] [--id N]        set failed writes back to NEW, to be sent again
  sfbridge tail CHANNEL [--replay ID]          print a channel's events as JSON lines

options:
  --config FILE          KEY=VALUE settings (the environment overrides them)
  --schema NAME          Postgres schema (default salesforce, or SFBRIDGE_SCHEMA)
  --log-format F         logfmt (default) or json
  --log-level L          debug, info (default), warn, error
  --bulk-threshold N     initial loads of N or more records use Bulk API 2.0 (default 10000)
  --poll-interval-ms N   poll every N ms instead of each mapping's sf_polling_seconds
  --max-batch N          changes per Postgres transaction (default 5000)
  --load-batch N         rows per COPY transaction of an initial load (default 20000)
  --load-connections N   connections an initial load writes on side by side, 1 or 2 (default 2)

settings (environment variables):
  DATABASE_URL                 the Postgres database (libpq URI or key=value)
  SALESFORCE_LOGIN_URL         default https://login.salesforce.com
  SALESFORCE_CLIENT_ID         the connected app's consumer key
  SALESFORCE_CLIENT_SECRET     its secret (password flow)
  SALESFORCE_USERNAME          the integration user
  SALESFORCE_PASSWORD          password + security token (password flow), or
  SALESFORCE_JWT_KEY_FILE      the connected app's private key (JWT bearer flow), or
  SALESFORCE_REFRESH_TOKEN     a refresh token (refresh flow)
  SALESFORCE_API_VERSION       default 60.0
  SALESFORCE_CA_FILE           extra CA certificates (PEM) for TLS verification
  SFBRIDGE_WRITE_ALGORITHM     ordered (default: each captured change is its own write, in
                               trigger-log order) or merged (pending changes to one record
                               become one write; the folded entries are marked MERGED)
Secrets are never printed or logged.
)";

struct cli {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;
};

cli parse_args(int argc, char** argv) {
    cli c;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            c.options["help"] = "1";
        } else if (a.rfind("--", 0) == 0) {
            if (i + 1 >= argc)
                throw std::runtime_error("option " + a + " needs a value");
            c.options[a.substr(2)] = argv[++i];
        } else {
            c.positional.push_back(a);
        }
    }
    return c;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

mappings::mapping_file load_mappings(const cli& c) {
    auto it = c.options.find("mappings");
    if (it == c.options.end())
        throw std::runtime_error("--mappings FILE is required");
    std::vector<std::string> errors;
    auto f = mappings::read_mapping_file(read_file(it->second), errors);
    if (!f) {
        std::string msg = it->second + " is not a usable mapping file:";
        for (const auto& e : errors)
            msg += "\n  " + e;
        throw std::runtime_error(msg);
    }
    return *f;
}

long number_option(const cli& c, const std::string& name, long fallback) {
    auto it = c.options.find(name);
    if (it == c.options.end())
        return fallback;
    try {
        std::size_t used = 0;
        long v = std::stol(it->second, &used);
        if (used != it->second.size() || v <= 0)
            throw std::invalid_argument("");
        return v;
    } catch (const std::exception&) {
        throw std::runtime_error("--" + name + " expects a positive number, not " + it->second);
    }
}

// Runs one coroutine to completion on a fresh io_context.
template <class T>
T run_coro(asio::io_context& io, asio::awaitable<T> task) {
    std::optional<T> result;
    std::exception_ptr error;
    asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e)
            result = std::move(v);
    });
    io.run();
    if (error)
        std::rethrow_exception(error);
    return std::move(*result);
}

bridge::engine_config engine_config_from(const bridge::settings& s, const cli& c) {
    bridge::engine_config cfg;
    cfg.database_url = s.database_url();
    cfg.salesforce = s.salesforce_config();
    cfg.cometd_http = cfg.salesforce.http;
    cfg.schema =
        c.options.count("schema") ? c.options.at("schema") : s.get("SFBRIDGE_SCHEMA", "salesforce");
    cfg.mappings = load_mappings(c);
    cfg.bulk_threshold = static_cast<std::size_t>(number_option(c, "bulk-threshold", 10000));
    cfg.max_batch = static_cast<std::size_t>(number_option(c, "max-batch", 5000));
    cfg.load_batch = static_cast<std::size_t>(number_option(c, "load-batch", 20000));
    cfg.load_connections = static_cast<std::size_t>(number_option(c, "load-connections", 2));
    if (cfg.load_connections > 2)
        throw std::runtime_error("--load-connections expects 1 or 2, not " +
                                 std::to_string(cfg.load_connections));
    if (c.options.count("poll-interval-ms"))
        cfg.poll_interval = std::chrono::milliseconds(number_option(c, "poll-interval-ms", 1));
    const std::string writes = s.get("SFBRIDGE_WRITE_ALGORITHM", "ordered");
    if (writes == "merged")
        cfg.writes = bridge::write_algorithm::merged;
    else if (writes != "ordered")
        throw std::runtime_error("SFBRIDGE_WRITE_ALGORITHM must be ordered or merged, not " +
                                 writes);
    return cfg;
}

int cmd_run(const bridge::settings& s, const cli& c, bool import_only) {
    asio::io_context io(1);
    bridge::engine e(io.get_executor(), engine_config_from(s, c));
    std::string error;
    const bool ok = run_coro(io, e.start(error));
    if (!ok) {
        log::error("sfbridge", error);
        return 2;
    }
    if (import_only) {
        log::info("sfbridge", "mappings imported: tables and PushTopics are in place");
        return 0;
    }
    io.restart();
    asio::signal_set signals(io, SIGTERM, SIGINT);
    asio::steady_timer hard_stop(io);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec)
            return;
        log::info("sfbridge", "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        e.stop();
        // In-flight batches commit well within this; past it, give up on them (they are
        // not committed, so the next start replays them).
        hard_stop.expires_after(std::chrono::milliseconds(4500));
        hard_stop.async_wait([&](const boost::system::error_code& tec) {
            if (!tec) {
                // What is not committed is rolled back by Postgres when the connections drop,
                // and its stream position with it: the next start fetches those events again.
                // Exit at once: unwinding suspended operations is neither needed nor safe here.
                log::warn("sfbridge", "in-flight work did not finish in time; exiting",
                          {{"still_running", e.running()}});
                std::_Exit(0);
            }
        });
    });
    bool done = false;
    asio::co_spawn(io, e.run(), [&](std::exception_ptr ex) {
        done = true;
        signals.cancel();
        hard_stop.cancel();
        if (ex)
            std::rethrow_exception(ex);
    });
    io.run();
    return 0;
}

int cmd_mappings(const bridge::settings& s, const cli& c) {
    const std::string sub = c.positional.size() > 1 ? c.positional[1] : "";
    if (sub == "export") {
        std::cout << mappings::write_mapping_file(load_mappings(c));
        return 0;
    }
    if (sub == "validate" || sub == "import") {
        if (sub == "validate") {
            // Validation needs the org's describes but not the database.
            asio::io_context io(1);
            salesforce::rest_client rest(io.get_executor(), s.salesforce_config());
            const auto file = load_mappings(c);
            std::vector<std::string> errors, warnings;
            run_coro(io, [&]() -> asio::awaitable<int> {
                salesforce::diagnostics d;
                auto ec = co_await rest.async_login(d);
                if (ec) {
                    errors.push_back("Salesforce login failed: " + d.summary());
                    co_return 0;
                }
                for (const auto& m : file.mappings) {
                    std::string json, perr;
                    ec = co_await rest.describe(m.object_name, json, d);
                    std::optional<mappings::object_describe> od;
                    if (!ec)
                        od = mappings::parse_describe(json, perr);
                    (void)mappings::resolve_mapping(m, od ? &*od : nullptr, errors, warnings);
                }
                co_return 0;
            }());
            for (const auto& w : warnings)
                std::cerr << "warning: " << w << "\n";
            for (const auto& e : errors)
                std::cerr << "error: " << e << "\n";
            if (!errors.empty())
                return 2;
            std::cout << "ok: " << file.mappings.size() << " mappings fit the org\n";
            return 0;
        }
        return cmd_run(s, c, true);
    }
    throw std::runtime_error("mappings: expected validate, import or export");
}

int cmd_db(const bridge::settings& s, const cli& c, const std::string& what) {
    asio::io_context io(1);
    const std::string schema =
        c.options.count("schema") ? c.options.at("schema") : s.get("SFBRIDGE_SCHEMA", "salesforce");
    if (!mappings::ddl::is_valid_schema_name(schema))
        throw std::runtime_error("bad schema name " + schema);
    pg::connection conn(io.get_executor());
    return run_coro(io, [&]() -> asio::awaitable<int> {
        pg::diagnostics d;
        auto ec = co_await conn.async_connect(s.database_url(), d);
        if (ec) {
            log::error("sfbridge", "the database is unreachable: " + d.summary());
            co_return 2;
        }
        const std::string q = mappings::quote_identifier(schema);
        pg::result r;
        if (what == "errors" || what == "retry") {
            // Failed writes back to Salesforce, by mapping (table) or trigger log id.
            std::string where = " WHERE state = 'FAILED'";
            pg::params p;
            if (auto it = c.options.find("mapping"); it != c.options.end()) {
                p.add(mappings::column_name(it->second));
                where += " AND table_name = $" + std::to_string(p.size());
            }
            if (auto it = c.options.find("id"); it != c.options.end()) {
                p.add(it->second);
                where += " AND id = $" + std::to_string(p.size()) + "::integer";
            }
            if (what == "retry") {
                ec = co_await conn.async_query("UPDATE " + q +
                                                   "._trigger_log SET state = 'NEW', "
                                                   "updated_at = now()" +
                                                   where,
                                               p, r, d);
                if (ec) {
                    log::error("sfbridge", "retry failed: " + d.summary());
                    co_return 2;
                }
                std::cout << r.affected_rows() << " failed writes set back to NEW\n";
                co_return 0;
            }
            ec = co_await conn.async_query(
                "SELECT id, table_name, record_id, action, coalesce(sf_message, ''), "
                "to_char(updated_at at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS') FROM " +
                    q + "._trigger_log" + where + " ORDER BY id",
                p, r, d);
            if (ec) {
                log::error("sfbridge", "reading the trigger log failed: " + d.summary());
                co_return 2;
            }
            std::printf("%-8s %-24s %9s %-7s %-19s %s\n", "id", "table", "record", "action",
                        "when (UTC)", "message");
            for (int i = 0; i < r.rows(); ++i)
                std::printf("%-8s %-24s %9s %-7s %-19s %s\n", std::string(r.value(i, 0)).c_str(),
                            std::string(r.value(i, 1)).c_str(), std::string(r.value(i, 2)).c_str(),
                            std::string(r.value(i, 3)).c_str(), std::string(r.value(i, 5)).c_str(),
                            std::string(r.value(i, 4)).c_str());
            co_return 0;
        }
        if (what == "reload") {
            if (c.positional.size() < 2)
                throw std::runtime_error("reload: which object?");
            ec = co_await conn.async_query("UPDATE " + q +
                                               "._sfbridge_state SET load_state = 'reload' WHERE "
                                               "lower(object_name) = lower($1)",
                                           pg::params(c.positional[1]), r, d);
            if (ec || r.affected_rows() == 0) {
                log::error("sfbridge", "no mapping named " + c.positional[1] + " has been synced" +
                                           (ec ? ": " + d.summary() : std::string()));
                co_return 2;
            }
            std::cout << c.positional[1]
                      << " will be loaded again: by a running sfbridge within 2 seconds, or "
                         "when it next starts\n";
            co_return 0;
        }
        ec = co_await conn.async_query(
            "SELECT object_name, table_name, load_state, "
            "coalesce(to_char(last_event_at at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS'), '-'), "
            "coalesce(round(extract(epoch from (now() at time zone 'utc' - "
            "poll_high_water)))::text || ' s ago', "
            "'-'), coalesce(replay_id::text, '-'), "
            "(SELECT count(*) FROM " +
                q +
                "._sfbridge_errors e WHERE e.object_name = s.object_name) "
                "FROM " +
                q + "._sfbridge_state s ORDER BY object_name",
            r, d);
        if (ec) {
            log::error("sfbridge", "no sfbridge state in schema " + schema + ": " + d.summary());
            co_return 2;
        }
        std::printf("%-24s %-10s %10s  %-19s %10s %12s %6s\n", "mapping", "state", "rows",
                    "last event (UTC)", "polled", "replay id", "errors");
        for (int i = 0; i < r.rows(); ++i) {
            pg::result count;
            const std::string rows_sql =
                "SELECT count(*) FROM " + q + "." + mappings::quote_identifier(r.value(i, 1));
            auto cec = co_await conn.async_query(rows_sql, count, d);
            std::printf("%-24s %-10s %10s  %-19s %10s %12s %6s\n",
                        std::string(r.value(i, 0)).c_str(), std::string(r.value(i, 2)).c_str(),
                        cec ? "?" : std::string(count.value(0, 0)).c_str(),
                        std::string(r.value(i, 3)).c_str(), std::string(r.value(i, 4)).c_str(),
                        std::string(r.value(i, 5)).c_str(), std::string(r.value(i, 6)).c_str());
        }
        co_return 0;
    }());
}

int cmd_tail(const bridge::settings& s, const cli& c) {
    if (c.positional.size() < 2)
        throw std::runtime_error("tail: which channel? (e.g. /topic/hc_Contact)");
    asio::io_context io(1);
    salesforce::rest_client rest(io.get_executor(), s.salesforce_config());
    std::unique_ptr<cometd::client> client;
    asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec && client)
            client->stop();
    });
    return run_coro(io, [&]() -> asio::awaitable<int> {
        salesforce::diagnostics d;
        auto ec = co_await rest.async_login(d);
        if (ec) {
            log::error("sfbridge", "Salesforce login failed: " + d.summary());
            co_return 2;
        }
        cometd::client_config cc;
        cc.endpoint = rest.instance_url() + "/cometd/" + rest.api_version();
        cc.channels.push_back(c.positional[1]);
        client = std::make_unique<cometd::client>(
            io.get_executor(), cc, [&](bool refresh) { return rest.streaming_token(refresh); });
        // --replay ID resumes after ID; without it, only new events (-1).
        long long replay = -1;
        if (auto it = c.options.find("replay"); it != c.options.end())
            replay = std::stoll(it->second);
        client->set_committed(c.positional[1], replay);
        asio::co_spawn(io, client->run(), asio::detached);
        while (auto item = co_await client->next()) {
            if (item->what == cometd::stream_item::kind::event)
                std::cout << item->data << "\n" << std::flush;
            else
                log::warn("tail", item->message);
        }
        signals.cancel();
        co_return 0;
    }());
}

} // namespace

int main(int argc, char** argv) {
    try {
        cli c = parse_args(argc, argv);
        if (c.options.count("help") || c.positional.empty()) {
            std::cout << usage;
            return c.positional.empty() && !c.options.count("help") ? 2 : 0;
        }
        bridge::settings s;
        if (c.options.count("config"))
            s.load_file(c.options.at("config"));
        s.load_environment();
        const std::string fmt = c.options.count("log-format")
                                    ? c.options.at("log-format")
                                    : s.get("SFBRIDGE_LOG_FORMAT", "logfmt");
        if (fmt != "logfmt" && fmt != "json")
            throw std::runtime_error("--log-format must be logfmt or json");
        log::set_format(fmt == "json" ? log::format::json : log::format::logfmt);
        log::level lvl = log::level::info;
        const std::string lv = c.options.count("log-level") ? c.options.at("log-level")
                                                            : s.get("SFBRIDGE_LOG_LEVEL", "info");
        if (!log::parse_level(lv, lvl))
            throw std::runtime_error("--log-level must be debug, info, warn or error");
        log::set_min_level(lvl);

        const std::string& cmd = c.positional[0];
        if (cmd == "run")
            return cmd_run(s, c, false);
        if (cmd == "mappings")
            return cmd_mappings(s, c);
        if (cmd == "reload" || cmd == "status" || cmd == "errors" || cmd == "retry")
            return cmd_db(s, c, cmd);
        if (cmd == "tail")
            return cmd_tail(s, c);
        throw std::runtime_error("unknown command " + cmd + " (see sfbridge --help)");
    } catch (const std::exception& e) {
        log::error("sfbridge", e.what());
        return 2;
    }
}
