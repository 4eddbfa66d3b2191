#include "bridge/cli.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sfbridge::bridge {

const char* const usage =
    R"(sfbridge: keeps Salesforce objects and Postgres tables in sync (Heroku Connect compatible)

usage:
  sfbridge run --mappings FILE [options]       sync until SIGTERM or SIGINT
  sfbridge mappings validate --mappings FILE   check the file against the org's describes
  sfbridge doctor --mappings FILE              check the database's and the org's set-up: one
                                               line per check, OK, WARN or FAIL with what to do
                                               (exit 1 on a FAIL; --push-topic-limit N, default
                                               50, the org edition's PushTopic limit)
  sfbridge mappings import --mappings FILE     validate, create the tables and PushTopics, exit
  sfbridge mappings export --mappings FILE     print the file in canonical form
  sfbridge mappings add OBJECT (--fields A,B | --all) [--access read_only|read_write]
           --mappings FILE                     add a mapping from the object's describe
  sfbridge mappings plan --mappings FILE       what a run would do (tables, PushTopics, loads,
                                               API calls a day), changing nothing
  sfbridge reload OBJECT                       load OBJECT again from scratch (a running sfbridge
                                               starts within 2 s, else the next start does)
  sfbridge reload --schema-only                a running sfbridge starts again in place within
                                               2 s, to read the mapping file and the org's
                                               describes again (fields added or removed)
  sfbridge status                              per mapping: state, rows, last event, lag, errors
  sfbridge status --json                       the running process's /status (needs its
                                               SFBRIDGE_HTTP address and token)
  sfbridge health                              exit 0 if the running process's /healthz
                                               answers 200 (a container's HEALTHCHECK)
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
  --pg-connections N     Postgres connections of this process, whatever the number of
                         mappings, besides the write-back's LISTEN and the lock session
                         (default 8, at least 3; or SFBRIDGE_PG_CONNECTIONS)
  --replica-id NAME      this process's name among replicas on one database, a random
                         suffix added (default host-pid; or SFBRIDGE_REPLICA_ID)
  --shutdown-grace S     after SIGTERM, seconds for calls in flight to finish and record
                         (default 30, or SFBRIDGE_SHUTDOWN_GRACE); then it exits anyway
  --archive-after S      processed trigger-log entries move to _trigger_log_archive S
                         seconds after (default 30, or SFBRIDGE_ARCHIVE_AFTER)
  --retention-days D     keep the trigger-log archive, conflicts and errors D days, 0.5 is
                         12 hours (default 31, Heroku Connect's archive; or
                         SFBRIDGE_RETENTION_DAYS)
  --http ADDRESS:PORT    serve /healthz, /readyz, /status and /metrics there (or
                         SFBRIDGE_HTTP; off by default; 127.0.0.1:9090 keeps it on this
                         machine). SFBRIDGE_HTTP_TOKEN, when set, is the bearer token every
                         path but /healthz and /readyz needs

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
  SALESFORCE_REQUEST_TIMEOUT   seconds a Salesforce call may wait for its answer (default 120)
  SFBRIDGE_WRITE_ALGORITHM     ordered (default: each captured change is its own write, in
                               trigger-log order) or merged (pending changes to one record
                               become one write; the folded entries are marked MERGED)
  SFBRIDGE_HEROKU_CONNECTION_ID  the UUID Heroku Connect's API (on the endpoint) gives as
                               the connection's id; default: derived from the login, the
                               user and the schema (docs/heroku-connect-api.md)
  SFBRIDGE_HEROKU_APP_ID       the Heroku app's UUID it gives as app_id (none by default)
  SFBRIDGE_REPLICA_ID          --replica-id (a pod's name, say)
  SFBRIDGE_PG_CONNECTIONS      --pg-connections
  SFBRIDGE_LOCK_DATABASE_URL   where the replica's lock session connects (default DATABASE_URL):
                               straight to Postgres when DATABASE_URL is a pgbouncer in
                               transaction mode
Secrets are never printed or logged.
)";

cli parse_args(int argc, const char* const* argv) {
    cli c;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            c.options["help"] = "1";
        } else if (a == "--json" || a == "--all" || a == "--schema-only") {
            // flags, of `status`, `mappings add` and `reload`
            c.options[a.substr(2)] = "1";
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

namespace {
long positive_number(const std::string& name, const std::string& text) {
    try {
        std::size_t used = 0;
        const long v = std::stol(text, &used);
        if (used != text.size() || v <= 0)
            throw std::invalid_argument("");
        return v;
    } catch (const std::exception&) {
        throw std::runtime_error(name + " expects a positive number, not " + text);
    }
}
// Days, whole or not ("0.5" is twelve hours), at least a second's worth.
std::chrono::seconds positive_days(const std::string& name, const std::string& text) {
    try {
        std::size_t used = 0;
        const double days = std::stod(text, &used);
        if (used != text.size() || !(days * 86400.0 >= 1.0) || days > 36500.0)
            throw std::invalid_argument("");
        return std::chrono::seconds(static_cast<long>(days * 86400.0));
    } catch (const std::exception&) {
        throw std::runtime_error(name + " expects a positive number of days, not " + text);
    }
}
} // namespace

long number_option(const cli& c, const std::string& name, long fallback) {
    auto it = c.options.find(name);
    return it == c.options.end() ? fallback : positive_number("--" + name, it->second);
}

std::string option_or_setting(const cli& c, const std::string& option, const settings& s,
                              const std::string& key, const std::string& fallback) {
    auto it = c.options.find(option);
    return it != c.options.end() ? it->second : s.get(key, fallback);
}

engine_config engine_options(const settings& s, const cli& c) {
    engine_config cfg;
    cfg.database_url = s.database_url();
    cfg.salesforce = s.salesforce_config();
    cfg.cometd_http = cfg.salesforce.http;
    cfg.schema = option_or_setting(c, "schema", s, "SFBRIDGE_SCHEMA", "salesforce");
    cfg.bulk_threshold = static_cast<std::size_t>(number_option(c, "bulk-threshold", 10000));
    cfg.max_batch = static_cast<std::size_t>(number_option(c, "max-batch", 5000));
    cfg.load_batch = static_cast<std::size_t>(number_option(c, "load-batch", 20000));
    cfg.load_connections = static_cast<std::size_t>(number_option(c, "load-connections", 2));
    if (cfg.load_connections > 2)
        throw std::runtime_error("--load-connections expects 1 or 2, not " +
                                 std::to_string(cfg.load_connections));
    cfg.pg_connections = static_cast<std::size_t>(
        positive_number("--pg-connections (SFBRIDGE_PG_CONNECTIONS)",
                        option_or_setting(c, "pg-connections", s, "SFBRIDGE_PG_CONNECTIONS", "8")));
    if (cfg.pg_connections < 3)
        throw std::runtime_error("--pg-connections expects at least 3 (the stream's writer, "
                                 "control's session and one to share), not " +
                                 std::to_string(cfg.pg_connections));
    cfg.replica_id = option_or_setting(c, "replica-id", s, "SFBRIDGE_REPLICA_ID", "");
    cfg.lock_database_url = s.get("SFBRIDGE_LOCK_DATABASE_URL", "");
    if (cfg.replica_id.size() > 36 ||
        cfg.replica_id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789._-") != std::string::npos)
        throw std::runtime_error("--replica-id (SFBRIDGE_REPLICA_ID) expects at most 36 letters, "
                                 "digits, '.', '_' or '-'");
    if (c.has("poll-interval-ms"))
        cfg.poll_interval = std::chrono::milliseconds(number_option(c, "poll-interval-ms", 1));
    cfg.shutdown_grace = std::chrono::seconds(positive_number(
        "--shutdown-grace (SFBRIDGE_SHUTDOWN_GRACE)",
        option_or_setting(c, "shutdown-grace", s, "SFBRIDGE_SHUTDOWN_GRACE", "30")));
    cfg.retention =
        positive_days("--retention-days (SFBRIDGE_RETENTION_DAYS)",
                      option_or_setting(c, "retention-days", s, "SFBRIDGE_RETENTION_DAYS", "31"));
    // Processed trigger-log rows move to the archive after --archive-after, and always before
    // the archive's retention would prune them.
    cfg.archive_after = std::chrono::seconds(
        positive_number("--archive-after (SFBRIDGE_ARCHIVE_AFTER)",
                        option_or_setting(c, "archive-after", s, "SFBRIDGE_ARCHIVE_AFTER", "30")));
    cfg.archive_after = std::min<std::chrono::seconds>(cfg.archive_after, cfg.retention / 2);
    if (const char* t = std::getenv("SFBRIDGE_TEST_TOMBSTONE_SECONDS")) // the soak's
        cfg.tombstone_retention = std::chrono::seconds(positive_number("tombstone seconds", t));
    if (const char* fail = std::getenv("SFBRIDGE_TEST_FAIL_LOOP"))
        cfg.fail_loop = fail;
    const std::string writes = s.get("SFBRIDGE_WRITE_ALGORITHM", "ordered");
    if (writes == "merged")
        cfg.writes = write_algorithm::merged;
    else if (writes != "ordered")
        throw std::runtime_error("SFBRIDGE_WRITE_ALGORITHM must be ordered or merged, not " +
                                 writes);
    return cfg;
}

mappings::mapping_file load_mappings(const cli& c) {
    auto it = c.options.find("mappings");
    if (it == c.options.end())
        throw std::runtime_error("--mappings FILE is required");
    std::ifstream in(it->second);
    if (!in)
        throw std::runtime_error("cannot read " + it->second);
    std::stringstream text;
    text << in.rdbuf();
    std::vector<std::string> errors;
    auto f = mappings::read_mapping_file(text.str(), errors);
    if (!f) {
        std::string msg = it->second + " is not a usable mapping file:";
        for (const auto& e : errors)
            msg += "\n  " + e;
        throw std::runtime_error(msg);
    }
    return *f;
}

} // namespace sfbridge::bridge
