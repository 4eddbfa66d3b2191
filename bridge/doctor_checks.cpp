#include "bridge/doctor_checks.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <map>

namespace sfbridge::bridge::doctor {

namespace od = simdjson::ondemand;

namespace {

finding ok(std::string check, std::string message) {
    return {level::ok, std::move(check), std::move(message)};
}
finding warn(std::string check, std::string message) {
    return {level::warn, std::move(check), std::move(message)};
}
finding fail(std::string check, std::string message) {
    return {level::fail, std::move(check), std::move(message)};
}

std::string quoted(const std::string& name) {
    return "\"" + name + "\"";
}

std::string joined(const std::vector<std::string>& names, std::size_t at_most = 8) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < at_most; ++i)
        out += (i ? ", " : "") + names[i];
    if (names.size() > at_most)
        out += " and " + std::to_string(names.size() - at_most) + " more";
    return out;
}

finding privileges(const database_facts& f, const std::string& schema) {
    const std::string check = "schema privileges";
    if (!f.schema_exists) {
        if (f.superuser || f.may_create_in_database)
            return ok(check, "role " + f.role + " may create schema " + quoted(schema) +
                                 " with its tables, triggers and functions");
        return fail(check, "role " + f.role + " may not create schema " + quoted(schema) +
                               ": GRANT CREATE ON DATABASE " + quoted(f.database) + " TO " +
                               quoted(f.role) + ", or create the schema for it");
    }
    if (!f.superuser && !f.may_create_in_schema)
        return fail(check, "role " + f.role + " may not create tables or functions in " +
                               quoted(schema) + ": GRANT USAGE, CREATE ON SCHEMA " +
                               quoted(schema) + " TO " + quoted(f.role));
    if (!f.superuser && f.tables_owned_by_others > 0)
        return fail(check, std::to_string(f.tables_owned_by_others) + " table(s) in " +
                               quoted(schema) + " belong to another role: triggers and columns " +
                               "need their owner; ALTER TABLE ... OWNER TO " + quoted(f.role) +
                               ", or run sfbridge as their owner");
    return ok(check,
              "role " + f.role + " may create tables, triggers and functions in " + quoted(schema));
}

finding hstore(const database_facts& f) {
    if (f.hstore_version)
        return ok("hstore", "extension installed (version " + *f.hstore_version + ")");
    if (!f.hstore_available)
        return fail("hstore", "the extension is not available on the server: install PostgreSQL's "
                              "contrib modules (Debian: postgresql-contrib), then CREATE "
                              "EXTENSION hstore");
    // A trusted extension from PostgreSQL 13: before, only a superuser may create it.
    const bool trusted = f.server_version_num >= 130000;
    if (f.superuser || (trusted && f.may_create_in_database && f.may_create_in_public))
        return ok("hstore", "not installed yet: sfbridge creates it at its first start");
    return fail("hstore", "not installed, and role " + f.role +
                              " may not create it (it goes in schema public): have an owner run "
                              "CREATE EXTENSION hstore WITH SCHEMA public");
}

} // namespace

std::vector<finding> judge_database(const database_facts& f, const std::string& schema) {
    std::vector<finding> out;
    out.push_back(ok("database", "reachable: PostgreSQL " + f.server_version + ", database " +
                                     f.database + ", role " + f.role +
                                     (f.superuser ? " (superuser)" : "")));
    out.push_back(privileges(f, schema));
    out.push_back(hstore(f));
    if (f.may_set_replication_role)
        out.push_back(ok("fast loads", "role may set session_replication_role: initial loads "
                                       "skip the triggers"));
    else
        out.push_back(warn("fast loads",
                           "role may not set session_replication_role: initial loads run the "
                           "triggers for every row and are slower; on PostgreSQL 15 GRANT SET ON "
                           "PARAMETER session_replication_role TO " +
                               quoted(f.role) + " (or accept the slower loads)"));
    if (!f.schema_exists)
        out.push_back(ok("existing schema", quoted(schema) + " does not exist yet: sfbridge "
                                                             "creates it"));
    else if (f.has_trigger_log)
        out.push_back(ok("existing schema",
                         quoted(schema) + " holds a Heroku Connect schema (_trigger_log) with " +
                             std::to_string(f.tables.size()) + " mapped table(s)" +
                             (f.tables.empty() ? "" : " (" + joined(f.tables) + ")") +
                             ": sfbridge adopts the tables of its mappings, rows and all"));
    else if (!f.tables.empty())
        out.push_back(warn("existing schema",
                           quoted(schema) + " has tables but no _trigger_log (" + joined(f.tables) +
                               "): a table named as a mapping's is adopted and given columns it "
                               "lacks; make sure that is meant, or set SFBRIDGE_SCHEMA"));
    else
        out.push_back(ok("existing schema", quoted(schema) + " exists and is empty"));
    return out;
}

finding judge_api_version(std::string_view versions_json, const std::string& wanted) {
    od::parser parser;
    simdjson::padded_string body(versions_json);
    od::document doc;
    od::array arr;
    if (parser.iterate(body).get(doc) || doc.get_array().get(arr))
        return fail("API version", "Salesforce's versions list is not a JSON array");
    std::vector<std::string> versions;
    for (auto v : arr) {
        std::string_view s;
        if (!v["version"].get_string().get(s))
            versions.emplace_back(s);
    }
    if (versions.empty())
        return fail("API version", "Salesforce listed no API versions");
    const auto newest = *std::max_element(versions.begin(), versions.end(),
                                          [](const std::string& a, const std::string& b) {
                                              return std::atof(a.c_str()) < std::atof(b.c_str());
                                          });
    if (std::find(versions.begin(), versions.end(), wanted) == versions.end())
        return fail("API version", "the org does not offer API " + wanted + " (newest: " + newest +
                                       "): set SALESFORCE_API_VERSION to one it lists");
    return ok("API version", wanted + " is supported (the org's newest: " + newest + ")");
}

finding judge_clock(std::optional<std::int64_t> offset_ms) {
    if (!offset_ms)
        return warn("clock", "Salesforce's answer had no usable Date header: skew not measured");
    const double seconds = static_cast<double>(*offset_ms) / 1000.0;
    char text[64];
    std::snprintf(text, sizeof text, "%+.1f s", seconds);
    if (std::llabs(*offset_ms) > 10'000)
        return warn("clock", std::string("Salesforce's clock is ") + text +
                                 " from this machine's: sfbridge corrects for it, but sync this "
                                 "machine's clock (NTP) so logs and times agree");
    return ok("clock", std::string("Salesforce's clock is ") + text +
                           " from this machine's (whole seconds in its Date header)");
}

finding judge_push_topics(const std::set<std::string>& existing,
                          const std::set<std::string>& needed, bool createable, int limit) {
    std::size_t to_create = 0;
    for (const auto& n : needed)
        to_create += existing.contains(n) ? 0 : 1;
    const std::size_t total = existing.size() + to_create;
    const std::string counts = std::to_string(existing.size()) + " PushTopic(s) in the org, " +
                               std::to_string(to_create) + " more needed, limit " +
                               std::to_string(limit);
    if (to_create > 0 && !createable)
        return fail("PushTopics", "the integration user may not create PushTopics (" + counts +
                                      "): give it the Create permission on PushTopic (API "
                                      "Enabled, Streaming API), or stream by CDC");
    if (total > static_cast<std::size_t>(limit))
        return fail("PushTopics", counts + ": delete unused PushTopics, stream some mappings by "
                                           "CDC, or set --push-topic-limit to the org's edition "
                                           "limit (100 Performance/Unlimited, 50 Enterprise, 40 "
                                           "others)");
    if (total * 10 >= static_cast<std::size_t>(limit) * 8) // 80% or more
        return warn("PushTopics", counts + ": close to the limit");
    return ok("PushTopics", counts);
}

std::vector<finding> judge_cdc(std::string_view tooling_json,
                               const std::vector<std::string>& objects) {
    std::vector<finding> out;
    std::set<std::string> selected;
    od::parser parser;
    simdjson::padded_string body(tooling_json);
    od::document doc;
    od::array records;
    if (parser.iterate(body).get(doc) || doc["records"].get_array().get(records)) {
        out.push_back(fail("CDC", "the Tooling API's PlatformEventChannelMember answer is not "
                                  "a query result"));
        return out;
    }
    for (auto r : records) {
        std::string_view entity;
        if (!r["SelectedEntity"].get_string().get(entity))
            selected.emplace(entity);
    }
    for (const auto& o : objects) {
        const std::string entity =
            o.ends_with("__c") ? o.substr(0, o.size() - 3) + "__ChangeEvent" : o + "ChangeEvent";
        if (selected.contains(entity))
            out.push_back(ok("CDC", o + " is selected for Change Data Capture"));
        else
            out.push_back(fail("CDC", o +
                                          " streams by CDC but is not selected for Change Data "
                                          "Capture: Setup > Change Data Capture, add " +
                                          o));
    }
    return out;
}

std::vector<finding> judge_limits(std::string_view limits_json, bool push_topics, bool cdc) {
    std::vector<finding> out;
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> limits;
    od::parser parser;
    simdjson::padded_string body(limits_json);
    od::document doc;
    od::object obj;
    if (parser.iterate(body).get(doc) || doc.get_object().get(obj)) {
        out.push_back(fail("API limit", "/limits did not answer a JSON object"));
        return out;
    }
    for (auto m : obj) {
        std::string_view k;
        od::object v;
        std::int64_t max = 0, remaining = 0;
        if (!m.unescaped_key().get(k) && !m.value().get_object().get(v) &&
            !v["Max"].get_int64().get(max) && !v["Remaining"].get_int64().get(remaining))
            limits[std::string(k)] = {max, remaining};
    }
    const auto judge = [&](const std::string& check, const std::string& name, bool zero_fails,
                           const std::string& advice) {
        const auto it = limits.find(name);
        if (it == limits.end()) {
            out.push_back(warn(check, "/limits has no " + name));
            return;
        }
        const auto [max, remaining] = it->second;
        const std::string text =
            std::to_string(remaining) + " of " + std::to_string(max) + " left today (" + name + ")";
        if (remaining <= 0)
            out.push_back(zero_fails ? fail(check, text + ": " + advice)
                                     : warn(check, text + ": " + advice));
        else if (remaining * 10 < max)
            out.push_back(warn(check, text + ": under 10% left; " + advice));
        else
            out.push_back(ok(check, text));
    };
    judge("API limit", "DailyApiRequests", true,
          "sync stops until the 24-hour window frees calls; raise the org's limit or lower "
          "sf_max_daily_api_calls and polling");
    // PushTopic events to clients of API 37.0 and later (sfbridge's) count against the durable
    // allocation; DailyStreamingApiEvents counts older clients'. CDC's is the platform events'.
    if (push_topics)
        judge("streaming events", "DailyDurableStreamingApiEvents", false,
              "PushTopic events stop until the allocation frees; polls still sync");
    if (cdc)
        judge("CDC events", "DailyDeliveredPlatformEvents", false,
              "change events stop until the allocation frees; polls still sync");
    return out;
}

std::string report(const std::vector<finding>& findings) {
    std::string out;
    int warns = 0, fails = 0;
    for (const auto& f : findings) {
        const char* tag = f.what == level::ok ? "OK  " : f.what == level::warn ? "WARN" : "FAIL";
        warns += f.what == level::warn;
        fails += f.what == level::fail;
        out += std::string(tag) + "  " + f.check + ": " + f.message + "\n";
    }
    out += std::to_string(findings.size()) + " checks: " + std::to_string(fails) + " FAIL, " +
           std::to_string(warns) + " WARN\n";
    return out;
}

int exit_code(const std::vector<finding>& findings) noexcept {
    return std::any_of(findings.begin(), findings.end(),
                       [](const finding& f) { return f.what == level::fail; })
               ? 1
               : 0;
}

} // namespace sfbridge::bridge::doctor
