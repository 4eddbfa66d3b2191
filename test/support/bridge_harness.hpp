#pragma once

// The inbound engine's test harness: sfsim in-process, a real Postgres, the engine (in-process
// or as the sfbridge executable), and comparisons of sfsim's records with the table.
#include "bridge/engine.hpp"
#include "core/log.hpp"
#include "mappings/json_value.hpp"
#include "mappings/types.hpp"
#include "test/support/describes.hpp"
#include "test/support/pg_env.hpp"
#include "test/support/sim_fixture.hpp"

#include <boost/asio/co_spawn.hpp>

#include <filesystem>
#include <fstream>
#include <map>

namespace sfbridge::test {

namespace asio = boost::asio;

// sfsim, a real Postgres and the engine on one io_context.
struct harness {
    sim_fixture f;
    std::string schema = unique_name("sync");
    std::unique_ptr<bridge::engine> engine;
    bool running = false;
    http_client control;

    explicit harness(const std::function<void(sim::simulator_config&)>& tweak = {})
        : f([&](sim::simulator_config& c) {
              c.cometd.connect_timeout = std::chrono::milliseconds(2000);
              if (tweak)
                  tweak(c);
          }),
          control(f.client()) {}
    // A test that failed before stop() leaves the engine running: it is stopped here, before
    // it is destroyed, or the fixture's last run would resume its loops in freed memory.
    ~harness() {
        if (!engine || !running || f.io.stopped())
            return;
        engine->stop();
        // Past the engine's shutdown grace (30 s by default): it always ends by then.
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (running && std::chrono::steady_clock::now() < until)
            f.io.run_one_for(std::chrono::milliseconds(100));
        if (running)
            (void)engine.release(); // leaked rather than freed under its own loops
    }
    harness(const harness&) = delete;
    harness& operator=(const harness&) = delete;

    bridge::engine_config config(const std::string& mapping_json) {
        bridge::engine_config c;
        c.database_url = pg_dsn();
        c.schema = schema;
        c.salesforce.auth.login_url = f.sim->base_url();
        c.salesforce.auth.client_id = f.cfg.auth.client_id;
        c.salesforce.auth.client_secret = f.cfg.auth.client_secret;
        c.salesforce.auth.username = f.cfg.auth.username;
        c.salesforce.auth.password = f.cfg.auth.password;
        c.salesforce.backoff_initial = std::chrono::milliseconds(10);
        c.poll_interval = std::chrono::milliseconds(300);
        c.poll_overlap = std::chrono::milliseconds(2000);
        // Tests read outcomes in _trigger_log; the move to the archive has a test of its own.
        c.archive_after = std::chrono::hours(24);
        std::vector<std::string> errors;
        auto file = mappings::read_mapping_file(mapping_json, errors);
        REQUIRE(file);
        c.mappings = *file;
        return c;
    }

    asio::awaitable<void> start(bridge::engine_config c) {
        co_await start(std::move(c), std::function<void(bridge::engine&)>());
    }
    // `prepare` sees the engine before it starts (to set its callbacks).
    asio::awaitable<void> start(bridge::engine_config c,
                                std::function<void(bridge::engine&)> prepare) {
        engine = std::make_unique<bridge::engine>(f.io.get_executor(), std::move(c));
        if (prepare)
            prepare(*engine);
        std::string error;
        const bool ok = co_await engine->start(error);
        INFO(error);
        REQUIRE(ok);
        running = true;
        asio::co_spawn(f.io, engine->run(), [this](std::exception_ptr) { running = false; });
    }

    asio::awaitable<void> stop() {
        engine->stop();
        for (int i = 0; i < 1000 && running; ++i)
            co_await sleep_ms(10);
        REQUIRE_FALSE(running);
    }

    asio::awaitable<void> send(http::verb v, const std::string& target, std::string body) {
        std::map<std::string, std::string> headers;
        headers["Content-Type"] = "application/json";
        auto r = co_await control.call(v, target, std::move(body), headers);
        INFO(target << ": " << r.body);
        REQUIRE(r.status < 300);
    }

    // Starts one of sfsim's generators (POST /__sim/generate) and waits until it has made
    // every change it was asked for: records meant to exist before the next step do.
    asio::awaitable<void> generate(std::string body) {
        std::map<std::string, std::string> headers;
        headers["Content-Type"] = "application/json";
        auto r =
            co_await control.call(http::verb::post, "/__sim/generate", std::move(body), headers);
        INFO(r.body);
        REQUIRE(r.status < 300);
        const auto job = std::to_string(std::int64_t(parse_json(r.body)->root["generator"]));
        for (int i = 0; i < 6000; ++i) { // two minutes
            auto st = co_await control.call(http::verb::get, "/__sim/generate/" + job);
            auto d = parse_json(st.body);
            if (bool(d->root["finished"]))
                co_return;
            co_await sleep_ms(20);
        }
        FAIL("sfsim's generator " << job << " did not finish");
    }
};

inline std::string mapping_json(const std::string& object, const std::vector<std::string>& fields,
                                bool notify) {
    std::string f;
    for (const auto& x : fields)
        f += (f.empty() ? "" : ",") + std::string("\"") + x + "\":{}";
    return R"({"version":1,"mappings":[{"object_name":")" + object +
           R"(","config":{"access":"read_only","sf_notify_enabled":)" +
           (notify ? "true" : "false") + R"(,"sf_polling_seconds":600,"fields":{)" + f + "}}}]}";
}

// Named field lists: GCC 12 miscompiles braced temporaries in co_await expressions.
inline std::vector<std::string> fields_LastName() {
    return {"LastName"};
}
inline std::vector<std::string> fields_Name() {
    return {"Name"};
}
inline std::vector<std::string> fields_Query() {
    return {"Query"};
}

inline std::string mapping_json(const std::string& object, const std::string& comma_fields,
                                bool notify) {
    std::vector<std::string> v;
    std::size_t start = 0;
    while (start <= comma_fields.size()) {
        auto end = comma_fields.find(',', start);
        if (end == std::string::npos)
            end = comma_fields.size();
        v.push_back(comma_fields.substr(start, end - start));
        start = end + 1;
    }
    return mapping_json(object, v, notify);
}

// Sim_Everything__c's describe as another object (`name`, `label`, `key_prefix`), its fields
// changed by `edit`. Written to a temporary file for sfsim (schema_files).
inline std::string
sim_everything_as(const std::string& name, const std::string& label, const std::string& key_prefix,
                  const std::function<void(mappings::json_value::array&)>& edit) {
    std::string error;
    auto doc = mappings::parse_json(
        slurp(std::string(SFSIM_SCHEMA_DIR) + "/Sim_Everything__c.json"), error);
    REQUIRE(doc);
    auto root = *doc->as_object();
    root["name"] = name;
    root["label"] = label;
    root["keyPrefix"] = key_prefix;
    auto fields = *root["fields"].as_array();
    edit(fields);
    root["fields"] = fields;
    const auto path = std::filesystem::temp_directory_path() /
                      ("sfbridge-" + name + "-" + std::to_string(::getpid()) + ".json");
    std::ofstream(path) << mappings::json_value(root).dump();
    return path.string();
}

// A describe of a wide custom object (Sim_Everything__c plus 90 long-named text fields), whose
// PushTopic query cannot fit in 1,300 characters.
inline std::string wide_object_schema() {
    return sim_everything_as("Wide_Object__c", "Wide Object", "a0W", [](auto& fields) {
        mappings::json_value text_field;
        for (const auto& f : fields)
            if (*f.as_object()->at("name").as_string() == "Text__c")
                text_field = f;
        for (int i = 0; i < 90; ++i) {
            auto copy = *text_field.as_object();
            copy["name"] = "A_Long_Descriptive_Field_Name_" + std::to_string(i) + "__c";
            fields.push_back(copy);
        }
    });
}

// Id -> "field=value|..." of every live record in sfsim, through its REST API.
inline asio::awaitable<std::map<std::string, std::string>>
sim_rows(harness& h, const std::string& object, const std::vector<std::string>& fields) {
    http_client c = h.f.client();
    co_await h.f.login(c);
    std::string select = "Id";
    for (const auto& x : fields)
        select += "," + x;
    std::string target = h.f.api("/query?q=SELECT+" + select + "+FROM+" + object);
    std::map<std::string, std::string> out;
    while (true) {
        auto r = co_await c.call(http::verb::get, target);
        REQUIRE(r.status == 200);
        auto d = parse_json(r.body);
        for (auto rec : d->root["records"].get_array()) {
            std::string row;
            for (const auto& x : fields) {
                simdjson::dom::element v;
                std::string text;
                if (rec[x].get(v) || v.is_null())
                    text = "null";
                else if (v.is_string())
                    text = str(v);
                else
                    text = simdjson::to_string(v);
                row += x + "=" + text + "|";
            }
            out[str(rec["Id"])] = row;
        }
        if (bool(d->root["done"]))
            break;
        target = str(d->root["nextRecordsUrl"]);
    }
    co_return out;
}

// Creates records through sfsim's control API (as the Bulk API when `bulk`: no PushTopic
// event) and returns their Ids in order.
inline asio::awaitable<std::vector<std::string>>
sim_create(harness& h, const std::string& object, std::string records, bool bulk = false) {
    std::map<std::string, std::string> headers;
    headers["Content-Type"] = "application/json";
    const std::string target =
        "/__sim/records/" + object + (bulk ? std::string("?bulk=true") : std::string());
    auto r = co_await h.control.call(http::verb::post, target, std::move(records), headers);
    REQUIRE(r.status < 300);
    auto d = parse_json(r.body);
    std::vector<std::string> ids;
    for (auto made : d->root.get_array()) {
        INFO(r.body.substr(0, 500));
        REQUIRE(bool(made["success"]));
        ids.push_back(str(made["id"]));
    }
    co_return ids;
}

// Waits until sfsim holds at least `n` live records of `object` (a write applied, whatever
// became of its answer).
inline asio::awaitable<bool> sim_holds(harness& h, const std::string& object, std::size_t n,
                                       int seconds = 60) {
    const std::vector<std::string> fields{"Id"};
    for (int i = 0; i < seconds * 20; ++i) {
        if ((co_await sim_rows(h, object, fields)).size() >= n)
            co_return true;
        co_await sleep_ms(50);
    }
    co_return false;
}

// The same from Postgres; values as the columns print them, normalised the way the
// comparison needs (timestamps to milliseconds).
inline asio::awaitable<std::map<std::string, std::string>>
pg_rows(pg::connection& c, const std::string& schema, const std::string& table,
        const std::vector<std::string>& fields) {
    std::string select = "sfid";
    for (const auto& x : fields)
        select += ", " + mappings::quote_identifier(mappings::column_name(x)) + "::text";
    auto r = co_await must_query(c, "SELECT " + select + " FROM " +
                                        mappings::quote_identifier(schema) + "." + table);
    std::map<std::string, std::string> out;
    for (int i = 0; i < r.rows(); ++i) {
        std::string row;
        for (std::size_t k = 0; k < fields.size(); ++k)
            row += fields[k] + "=" +
                   (r.is_null(i, int(k) + 1) ? "null" : std::string(r.value(i, int(k) + 1))) + "|";
        out[std::string(r.value(i, 0))] = row;
    }
    co_return out;
}

// Waits until sfsim's record `id` reads `want` ("Field=value|..."), as sim_rows shows it, or
// the deadline passes; returns what it read last.
inline asio::awaitable<std::string> sim_record_becomes(harness& h, const std::string& object,
                                                       const std::vector<std::string>& fields,
                                                       const std::string& id,
                                                       const std::string& want, int seconds = 60) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    std::string got;
    for (;;) {
        auto all = co_await sim_rows(h, object, fields);
        got = all[id];
        if (got == want || std::chrono::steady_clock::now() > deadline)
            co_return got;
        co_await sleep_ms(100); // between polls, not for progress
    }
}

// Waits until `sql` (one row, one column) returns `want`.
inline asio::awaitable<bool> eventually(pg::connection& c, const std::string& sql,
                                        const std::string& want, int seconds = 30) {
    std::string got;
    for (int i = 0; i < seconds * 20; ++i) {
        auto r = co_await must_query(c, sql);
        got = r.rows() && !r.is_null(0, 0) ? std::string(r.value(0, 0)) : "NULL";
        if (got == want)
            co_return true;
        co_await sleep_ms(50);
    }
    UNSCOPED_INFO(sql << " gave " << got << ", not " << want);
    co_return false;
}

// Waits until Postgres holds exactly sfsim's ids, with the same values of `fields`.
inline asio::awaitable<bool> converged(harness& h, pg::connection& c, const std::string& object,
                                       const std::vector<std::string>& fields, int seconds = 30) {
    std::map<std::string, std::string> want, got;
    for (int i = 0; i < seconds * 10; ++i) {
        want = co_await sim_rows(h, object, fields);
        got = co_await pg_rows(c, h.schema, mappings::column_name(object), fields);
        if (want == got)
            co_return true;
        co_await sleep_ms(100);
    }
    UNSCOPED_INFO("sfsim has " << want.size() << " records, Postgres " << got.size());
    for (const auto& [id, row] : got)
        if (!want.count(id)) {
            UNSCOPED_INFO(id << ": only in Postgres: " << row);
            break;
        }
    std::size_t shown = 0;
    for (const auto& [id, row] : want) {
        auto it = got.find(id);
        if (it == got.end() || it->second != row) {
            UNSCOPED_INFO(id << ": sfsim " << row << " postgres "
                             << (it == got.end() ? "(missing)" : it->second));
            if (++shown == 5)
                break;
        }
    }
    co_return false;
}

inline asio::awaitable<bool> converged(harness& h, pg::connection& c, const std::string& object,
                                       const std::string& field, int seconds = 30) {
    const std::vector<std::string> fields{field};
    co_return co_await converged(h, c, object, fields, seconds);
}

} // namespace sfbridge::test
