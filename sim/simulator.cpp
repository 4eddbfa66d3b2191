#include "sim/simulator.hpp"

#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "sim/ids.hpp"
#include "sim/record_json.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <simdjson.h>

#include <charconv>

namespace sfbridge::sim {
namespace od = simdjson::ondemand;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string ok_json() {
    return R"({"ok":true})";
}

response control_error(http::status s, std::string_view message) {
    std::string body;
    json::writer w(body);
    w.begin_object().member("error", message).end_object();
    return json_response(s, std::move(body));
}

// Values for generated records: deterministic from the sequence number, valid for the field.
value generated_value(const field_def& f, std::uint64_t n) {
    switch (f.type) {
    case field_type::boolean:
        return n % 2 == 0;
    case field_type::integer:
        return static_cast<double>(n % 1000);
    case field_type::double_:
    case field_type::currency:
    case field_type::percent:
        return static_cast<double>(n % 90) + 0.5;
    case field_type::date:
        return format_datetime(static_cast<std::int64_t>(n % 20000) * 86400000LL).substr(0, 10);
    case field_type::datetime:
        return format_datetime(1700000000000LL + static_cast<std::int64_t>(n % 100000000) * 1000);
    case field_type::time:
        return std::string("10:30:00.000Z");
    case field_type::picklist:
    case field_type::multipicklist:
        if (!f.picklist_values.empty())
            return f.picklist_values[n % f.picklist_values.size()];
        return std::string("Value");
    case field_type::email:
        return "user" + std::to_string(n) + "@example.com";
    case field_type::phone:
        return "+1 415 555 " + std::to_string(1000 + n % 9000);
    case field_type::url:
        return "https://example.com/" + std::to_string(n);
    default: {
        std::string s = f.name.substr(0, 8) + " " + std::to_string(n);
        if (f.length > 0 && static_cast<int>(s.size()) > f.length)
            s.resize(static_cast<std::size_t>(f.length));
        return s;
    }
    }
}

// The fields a generator writes: the required ones and a handful of plain ones (not the parts
// of an address or a location, which would need to agree with each other).
std::vector<int> generated_fields(const object_def& o) {
    std::vector<int> out;
    for (std::size_t i = 0; i < o.fields.size(); ++i) {
        const field_def& f = o.fields[i];
        const field_def* compound =
            f.compound_field_name.empty() ? nullptr : o.find(f.compound_field_name);
        if (!f.createable || !f.updateable || f.type == field_type::reference ||
            f.type == field_type::base64 || f.type == field_type::encryptedstring ||
            f.external_id || f.unique || f.calculated ||
            (compound &&
             (compound->type == field_type::address || compound->type == field_type::location)))
            continue;
        const bool required =
            !f.nillable && !f.defaulted_on_create && f.type != field_type::boolean;
        if (required || out.size() < 12)
            out.push_back(static_cast<int>(i));
    }
    return out;
}

} // namespace

simulator::simulator(asio::any_io_executor ex, simulator_config cfg)
    : ex_(ex), cfg_(std::move(cfg)), rng_(cfg_.seed) {
    schema_.load_directory(cfg_.schema_dir);
    for (const auto& f : cfg_.schema_files)
        schema_.load_file(f);
    if (!schema_.find("PushTopic"))
        throw std::runtime_error("sfsim: the schema has no PushTopic object");
    data_ = std::make_unique<org>(schema_, cfg_.seed);
    auth_ = std::make_unique<auth>(cfg_.auth, data_->org_id(), data_->user_id(),
                                   [this] { return data_->now_ms(); });
    streams_ = std::make_unique<streaming>(*data_, cfg_.retention, cfg_.seed);
    cometd_ = std::make_unique<cometd_server>(ex_, *streams_, *auth_, cfg_.cometd, cfg_.seed);
    rest_ = std::make_unique<rest_api>(*data_, usage_);
    bulk_ = std::make_unique<bulk_api>(*data_, faults_);
    usage_.max = cfg_.api_daily_limit;
    data_->set_lock_check([this](std::string_view id) {
        if (faults_.locked_ids.count(std::string(id)))
            return true;
        return faults_.lock_share > 0 &&
               std::uniform_real_distribution<double>(0, 1)(rng_) < faults_.lock_share;
    });
}

simulator::~simulator() {
    stop();
}

void simulator::start() {
    if (!cfg_.tls_cert_file.empty() || !cfg_.tls_key_file.empty()) {
        tls_.emplace(asio::ssl::context::tls_server);
        tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1);
        tls_->use_certificate_chain_file(cfg_.tls_cert_file);
        tls_->use_private_key_file(cfg_.tls_key_file, asio::ssl::context::pem);
    }
    server_ = std::make_unique<net::http_server>(
        ex_, [this](request& req, const net::peer_info& peer) { return handle(req, peer); },
        tls_ ? &*tls_ : nullptr);
    server_->listen({asio::ip::make_address(cfg_.host), cfg_.port});
}

void simulator::stop() {
    if (stopped_)
        return;
    stopped_ = true;
    faults_ = {};
    if (cometd_)
        cometd_->stop();
    if (server_)
        server_->stop();
}

std::uint16_t simulator::port() const {
    return server_->port();
}

std::string simulator::base_url() const {
    const std::string host =
        cfg_.host.find(':') != std::string::npos ? "[" + cfg_.host + "]" : cfg_.host;
    return std::string(tls_ ? "https://" : "http://") + host + ":" + std::to_string(port());
}

void simulator::drop_connections() {
    if (server_)
        server_->drop_all_connections();
}

void simulator::reset() {
    data_->reset();
    streams_->reset();
    cometd_->forget_all_clients();
    rest_->reset();
    bulk_->reset();
    usage_.used = 0;
    faults_ = {};
}

asio::awaitable<std::optional<response>> simulator::handle(request& req,
                                                           const net::peer_info& peer) {
    const auto [path, query_string] = split_target(req.target());
    if (path.starts_with("/__sim/") || path == "/__sim") {
        // The control API is for the machine the simulator runs on.
        if (!peer.remote.address().is_loopback())
            co_return control_error(http::status::forbidden, "the control API is loopback-only");
        co_return co_await control(req, path, query_string);
    }

    if (faults_.reset_connections)
        co_return std::nullopt;
    if (faults_.stall) {
        asio::steady_timer t(ex_);
        while (faults_.stall && !stopped_) {
            t.expires_after(std::chrono::milliseconds(20));
            (void)co_await t.async_wait(use_tuple);
        }
        if (stopped_)
            co_return std::nullopt;
    }
    if (faults_.delay.count() > 0) {
        asio::steady_timer t(ex_, faults_.delay);
        (void)co_await t.async_wait(use_tuple);
    }
    if (faults_.unavailable || (faults_.fail_share > 0 && std::uniform_real_distribution<double>(
                                                              0, 1)(rng_) < faults_.fail_share)) {
        if (path.starts_with("/cometd"))
            co_return json_response(
                http::status::service_unavailable,
                R"([{"error":"503::Server is too busy. Please try your request again later.","successful":false}])");
        co_return rest_error(http::status::service_unavailable, "SERVER_UNAVAILABLE",
                             "Server is too busy. Please try your request again later.");
    }

    if (path.starts_with("/cometd"))
        co_return co_await cometd_->handle(req, path.substr(7));
    if (path == "/services/oauth2/token")
        co_return auth_->token_endpoint(req, base_url());
    co_return services(req, path, query_string);
}

response simulator::services(request& req, std::string_view path, std::string_view query_string) {
    const auto seg = path_segments(path);
    if (seg.size() < 2 || seg[0] != "services" || seg[1] != "data")
        return rest_error(http::status::not_found, "NOT_FOUND",
                          "The requested resource does not exist");
    if (seg.size() == 2)
        return rest_api::versions(); // not counted, no limit header
    if (seg[2].size() < 2 || seg[2][0] != 'v')
        return rest_error(http::status::not_found, "NOT_FOUND",
                          "The requested resource does not exist");
    const std::string version = seg[2].substr(1);

    if (auth_->verify(bearer_token(req)) != auth::check::valid)
        return rest_error(http::status::unauthorized, "INVALID_SESSION_ID",
                          "Session expired or invalid");
    response res;
    if (usage_.used >= usage_.max) {
        res = rest_error(http::status::forbidden, "REQUEST_LIMIT_EXCEEDED",
                         "TotalRequests Limit exceeded.");
    } else {
        ++usage_.used;
        const std::vector<std::string> rest(seg.begin() + 3, seg.end());
        if (rest.size() >= 2 && rest[0] == "jobs" && rest[1] == "query")
            res = bulk_->handle(
                req, version, std::vector<std::string>(rest.begin() + 2, rest.end()), query_string);
        else
            res = rest_->handle(req, version, rest, query_string);
    }
    res.set("Sforce-Limit-Info",
            "api-usage=" + std::to_string(usage_.used) + "/" + std::to_string(usage_.max));
    return res;
}

asio::awaitable<void> simulator::generate(std::string object, std::string kind, long count,
                                          double rate, bool bulk, std::string stamp_field,
                                          std::uint64_t job) {
    const object_def* o = schema_.find(object);
    generator_state& st = generators_[job];
    st.total = count;
    if (!o) {
        st.error = "unknown object " + object;
        st.finished = true;
        co_return;
    }
    std::vector<int> fields = generated_fields(*o);
    // A benchmark's clock: every create and update also writes the wall-clock time in
    // microseconds into this field, just before the save (SystemModstamp has milliseconds only).
    const int stamp = stamp_field.empty() ? -1 : o->index_of(stamp_field);
    std::erase(fields, stamp);
    const auto stamp_now = [] {
        return std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
    };
    std::vector<std::string> live;
    for (const auto& r : data_->records(*o))
        if (!r->deleted)
            live.push_back(r->id);
    asio::steady_timer pace(ex_);
    const auto start = std::chrono::steady_clock::now();
    write_options wo;
    wo.bulk = bulk;
    for (long i = 0; i < count && !stopped_; ++i) {
        const std::uint64_t n = rng_();
        std::string op = kind;
        if (kind == "mixed") {
            const auto pick = n % 100;
            op = pick < 30 ? "create" : (pick < 90 ? "update" : "delete");
        }
        if (op != "create" && live.empty())
            op = "create";
        sf_error err;
        if (op == "create") {
            std::vector<field_value> in;
            for (int f : fields)
                in.push_back({f, generated_value(o->fields[static_cast<std::size_t>(f)], n)});
            if (stamp >= 0)
                in.push_back({stamp, stamp_now()});
            const std::string id = data_->create(*o, std::move(in), wo, err);
            if (!id.empty())
                live.push_back(id);
        } else if (op == "update") {
            const std::string& id = live[n % live.size()];
            std::vector<field_value> in;
            if (!fields.empty()) { // (an object may have no field the generator can write)
                const int f = fields[(n >> 8) % fields.size()];
                in.push_back({f, generated_value(o->fields[static_cast<std::size_t>(f)], n >> 16)});
            }
            if (stamp >= 0)
                in.push_back({stamp, stamp_now()});
            (void)data_->update(*o, id, std::move(in), wo, err);
        } else {
            const std::size_t k = n % live.size();
            (void)data_->remove(*o, live[k], wo, err);
            live[k] = live.back();
            live.pop_back();
        }
        st.done = i + 1;
        if (rate > 0) {
            const auto due =
                start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>((i + 1) / rate));
            if (due > std::chrono::steady_clock::now()) {
                pace.expires_at(due);
                (void)co_await pace.async_wait(use_tuple);
            }
        } else if (i % 1000 == 999) {
            // Let the server deliver while generating as fast as possible.
            pace.expires_after(std::chrono::milliseconds(0));
            (void)co_await pace.async_wait(use_tuple);
        }
    }
    st.finished = true;
}

asio::awaitable<std::optional<response>> simulator::control(request& req, std::string_view path,
                                                            std::string_view query_string) {
    const auto seg = path_segments(path); // "__sim", ...
    const auto method = req.method();
    const std::string what = seg.size() > 1 ? seg[1] : "";
    od::parser parser;
    simdjson::padded_string body(req.body());

    if (what == "reset" && method == http::verb::post) {
        reset();
        co_return json_response(http::status::ok, ok_json());
    }
    if (what == "stats" && method == http::verb::get) {
        std::string out;
        json::writer w(out);
        w.begin_object().key("records").begin_object();
        for (const auto& o : schema_.objects()) {
            std::int64_t live = 0, deleted = 0;
            for (const auto& r : data_->records(*o))
                (r->deleted ? deleted : live) += 1;
            if (live || deleted)
                w.key(o->name)
                    .begin_object()
                    .member("live", live)
                    .member("deleted", deleted)
                    .end_object();
        }
        w.end_object();
        w.member("cometdSessions", static_cast<std::int64_t>(cometd_->session_count()));
        w.member("pushTopics", static_cast<std::int64_t>(streams_->push_topic_count()));
        w.member("apiUsage", static_cast<std::int64_t>(usage_.used));
        w.member("apiLimit", static_cast<std::int64_t>(usage_.max));
        w.end_object();
        co_return json_response(http::status::ok, std::move(out));
    }
    if (what == "oauth" && seg.size() == 3 && method == http::verb::post) {
        std::string out;
        json::writer w(out);
        if (seg[2] == "refresh-token")
            w.begin_object().member("refresh_token", auth_->mint_refresh_token()).end_object();
        else if (seg[2] == "access-token")
            w.begin_object().member("access_token", auth_->mint_access_token()).end_object();
        else
            co_return control_error(http::status::not_found, "unknown oauth action");
        co_return json_response(http::status::ok, std::move(out));
    }
    if (what == "streaming" && seg.size() == 3 && seg[2] == "inject" &&
        method == http::verb::post) {
        // {"channel":"/topic/hc_Contact","type":"updated","sobject":{...}}: the sobject is
        // published as sent, however wrong.
        simdjson::ondemand::document doc;
        simdjson::ondemand::object obj;
        if (parser.iterate(body).get(doc) || doc.get_object().get(obj))
            co_return control_error(http::status::bad_request, "inject: expected a JSON object");
        std::string channel, type = "updated", sobject;
        for (auto m : obj) {
            std::string_view k, v;
            if (m.unescaped_key().get(k))
                co_return control_error(http::status::bad_request, "inject: bad JSON");
            if (k == "sobject") {
                std::string_view raw;
                simdjson::ondemand::object so;
                if (m.value().get_object().get(so) || so.raw_json().get(raw))
                    co_return control_error(http::status::bad_request,
                                            "inject: sobject must be an object");
                sobject = raw;
            } else if (!m.value().get_string().get(v)) {
                if (k == "channel")
                    channel = v;
                else if (k == "type")
                    type = v;
            }
        }
        if (channel.empty() || sobject.empty())
            co_return control_error(http::status::bad_request,
                                    "inject: channel and sobject needed");
        const std::int64_t id = streams_->inject(channel, type, sobject);
        std::string out;
        json::writer w(out);
        w.begin_object().member("replayId", id).end_object();
        co_return json_response(http::status::ok, std::move(out));
    }
    if (what == "faults") {
        if (seg.size() == 3 && method == http::verb::post) {
            if (seg[2] == "expire-tokens")
                auth_->expire_all_access_tokens();
            else if (seg[2] == "forget-clients")
                cometd_->forget_all_clients();
            else if (seg[2] == "lose-retention")
                streams_->lose_retention();
            else if (seg[2] == "drop-connections")
                // After this answer is written: the control connection is dropped too.
                asio::co_spawn(
                    ex_,
                    [this]() -> asio::awaitable<void> {
                        asio::steady_timer t(ex_, std::chrono::milliseconds(1));
                        (void)co_await t.async_wait(use_tuple);
                        drop_connections();
                    },
                    asio::detached);
            else
                co_return control_error(http::status::not_found, "unknown fault action");
            co_return json_response(http::status::ok, ok_json());
        }
        if (method == http::verb::put || method == http::verb::post) {
            od::document doc;
            od::object obj;
            if (parser.iterate(body).get(doc) || doc.get_object().get(obj))
                co_return control_error(http::status::bad_request,
                                        "faults: expected a JSON object");
            fault_settings f;
            for (auto m : obj) {
                std::string_view k;
                if (m.unescaped_key().get(k))
                    continue;
                od::value v = m.value();
                bool b;
                double d;
                std::int64_t i;
                if (k == "unavailable" && !v.get_bool().get(b))
                    f.unavailable = b;
                else if (k == "resetConnections" && !v.get_bool().get(b))
                    f.reset_connections = b;
                else if (k == "stall" && !v.get_bool().get(b))
                    f.stall = b;
                else if (k == "repeatBulkRows" && !v.get_bool().get(b))
                    f.repeat_bulk_rows = b;
                else if (k == "failShare" && !v.get_double().get(d))
                    f.fail_share = d;
                else if (k == "lockShare" && !v.get_double().get(d))
                    f.lock_share = d;
                else if (k == "delayMs" && !v.get_int64().get(i))
                    f.delay = std::chrono::milliseconds(i);
                else if (k == "apiDailyLimit" && !v.get_int64().get(i))
                    usage_.max = static_cast<long>(i);
                else if (k == "lockedIds") {
                    od::array a;
                    if (!v.get_array().get(a))
                        for (auto e : a) {
                            std::string_view s;
                            if (!e.get_string().get(s))
                                f.locked_ids.insert(ids::to18(s));
                        }
                } else
                    co_return control_error(http::status::bad_request,
                                            "faults: unknown or mistyped setting " +
                                                std::string(k));
            }
            faults_ = std::move(f);
            co_return json_response(http::status::ok, ok_json());
        }
    }
    if (what == "cometd" && (method == http::verb::put || method == http::verb::post)) {
        // Bayeux settings that tests and benchmarks change at run time.
        od::document doc;
        od::object obj;
        if (parser.iterate(body).get(doc) || doc.get_object().get(obj))
            co_return control_error(http::status::bad_request, "cometd: expected a JSON object");
        for (auto m : obj) {
            std::string_view k;
            std::int64_t v = 0;
            if (m.unescaped_key().get(k) || m.value().get_int64().get(v) || v <= 0)
                co_return control_error(http::status::bad_request,
                                        "cometd: settings are positive integers");
            if (k == "maxBatch")
                cometd_->config().max_batch = static_cast<std::size_t>(v);
            else if (k == "connectTimeoutMs")
                cometd_->config().connect_timeout = std::chrono::milliseconds(v);
            else if (k == "sessionTimeoutMs")
                cometd_->config().session_timeout = std::chrono::milliseconds(v);
            else
                co_return control_error(http::status::bad_request,
                                        "cometd: unknown setting " + std::string(k));
        }
        co_return json_response(http::status::ok, ok_json());
    }
    if (what == "validation-rules" && (method == http::verb::put || method == http::verb::post)) {
        od::document doc;
        od::array arr;
        if (parser.iterate(body).get(doc) || doc.get_array().get(arr))
            co_return control_error(http::status::bad_request,
                                    "validation-rules: expected a JSON array");
        std::vector<validation_rule> rules;
        for (auto e : arr) {
            od::object o;
            if (e.get_object().get(o))
                co_return control_error(http::status::bad_request,
                                        "validation-rules: objects only");
            validation_rule r;
            for (auto m : o) {
                std::string_view k, v;
                if (m.unescaped_key().get(k) || m.value().get_string().get(v))
                    continue;
                if (k == "object")
                    r.object = std::string(v);
                else if (k == "field")
                    r.field = std::string(v);
                else if (k == "equals")
                    r.equals = std::string(v);
                else if (k == "message")
                    r.message = std::string(v);
            }
            rules.push_back(std::move(r));
        }
        data_->validation_rules() = std::move(rules);
        co_return json_response(http::status::ok, ok_json());
    }
    if (what == "records" && seg.size() >= 3) {
        // Writes as a Salesforce user would make them (events raised), or with "bulk": true as
        // the Bulk API would (no PushTopic events).
        const object_def* o = schema_.find(seg[2]);
        if (!o)
            co_return control_error(http::status::not_found, "unknown object " + seg[2]);
        const auto qs = parse_form(query_string);
        write_options wo;
        wo.bulk = qs.count("bulk") && qs.at("bulk") == "true";
        wo.transaction_key = ids::make("tx2", ++generator_seq_);
        std::string out;
        json::writer w(out);
        if (seg.size() == 5 && seg[4] == "undelete" && method == http::verb::post) {
            sf_error err;
            if (!data_->undelete(*o, seg[3], wo, err))
                co_return rest_error(http::status::bad_request, err);
            co_return json_response(http::status::ok, ok_json());
        }
        if (method == http::verb::delete_) {
            w.begin_array();
            std::string_view list = qs.count("ids") ? std::string_view(qs.at("ids")) : "";
            while (!list.empty()) {
                const auto comma = list.find(',');
                const std::string id(list.substr(0, comma));
                sf_error err;
                const bool ok = data_->remove(*o, id, wo, err);
                w.begin_object().member("id", id).member("success", ok);
                if (!ok)
                    w.member("error", err.code + ": " + err.message);
                w.end_object();
                if (comma == std::string_view::npos)
                    break;
                list.remove_prefix(comma + 1);
            }
            w.end_array();
            co_return json_response(http::status::ok, std::move(out));
        }
        od::document doc;
        od::array arr;
        if (parser.iterate(body).get(doc) || doc.get_array().get(arr))
            co_return control_error(http::status::bad_request, "records: expected a JSON array");
        w.begin_array();
        for (auto e : arr) {
            od::object obj;
            std::vector<field_value> in;
            record_envelope env;
            sf_error err;
            bool ok = !e.get_object().get(obj) && read_record(*o, obj, in, env, err);
            std::string id = env.id;
            if (ok && method == http::verb::post) {
                id = data_->create(*o, std::move(in), wo, err);
                ok = !id.empty();
            } else if (ok && method == http::verb::patch) {
                ok = data_->update(*o, id, std::move(in), wo, err);
            }
            w.begin_object().member("id", id).member("success", ok);
            if (!ok)
                w.member("error", err.code + ": " + err.message);
            w.end_object();
        }
        w.end_array();
        co_return json_response(http::status::ok, std::move(out));
    }
    if (what == "generate") {
        if (seg.size() == 3 && method == http::verb::get) {
            std::uint64_t job = 0;
            std::from_chars(seg[2].data(), seg[2].data() + seg[2].size(), job);
            auto it = generators_.find(job);
            if (it == generators_.end())
                co_return control_error(http::status::not_found, "no such generator");
            std::string out;
            json::writer w(out);
            w.begin_object()
                .member("done", static_cast<std::int64_t>(it->second.done))
                .member("failed", static_cast<std::int64_t>(it->second.failed))
                .member("total", static_cast<std::int64_t>(it->second.total))
                .member("finished", it->second.finished);
            if (!it->second.error.empty())
                w.member("error", it->second.error);
            w.end_object();
            co_return json_response(http::status::ok, std::move(out));
        }
        if (method == http::verb::post) {
            od::document doc;
            od::object obj;
            if (parser.iterate(body).get(doc) || doc.get_object().get(obj))
                co_return control_error(http::status::bad_request,
                                        "generate: expected a JSON object");
            std::string object = "Contact", kind = "mixed", stamp_field;
            std::int64_t count = 1;
            double rate = 0;
            bool bulk = false;
            for (auto m : obj) {
                std::string_view k, s;
                if (m.unescaped_key().get(k))
                    continue;
                od::value v = m.value();
                if (k == "object" && !v.get_string().get(s))
                    object = std::string(s);
                else if (k == "kind" && !v.get_string().get(s))
                    kind = std::string(s);
                else if (k == "stamp_field" && !v.get_string().get(s))
                    stamp_field = std::string(s);
                else if ((k == "count" && v.get_int64().get(count)) ||
                         (k == "rate" && v.get_double().get(rate)) ||
                         (k == "bulk" && v.get_bool().get(bulk)))
                    co_return control_error(http::status::bad_request,
                                            "generate: " + std::string(k) + " has the wrong type");
            }
            if (kind != "create" && kind != "update" && kind != "delete" && kind != "mixed")
                co_return control_error(http::status::bad_request,
                                        "generate: kind must be create, update, delete or mixed");
            const object_def* od = schema_.find(object);
            if (!od)
                co_return control_error(http::status::bad_request,
                                        "generate: unknown object " + object);
            if (!stamp_field.empty()) {
                // 16 digits of microseconds, in a text field the generator may write.
                const field_def* sf = od->find(stamp_field);
                if (!sf || (sf->type != field_type::string && sf->type != field_type::textarea) ||
                    !sf->createable || !sf->updateable || (sf->length > 0 && sf->length < 16))
                    co_return control_error(http::status::bad_request,
                                            "generate: stamp_field " + stamp_field +
                                                " is not a writable text field of " + object +
                                                " with room for 16 digits");
            }
            const std::uint64_t job = ++generator_seq_;
            generators_[job].total = count;
            auto run = generate(object, kind, static_cast<long>(count), rate, bulk,
                                std::move(stamp_field), job);
            asio::co_spawn(ex_, std::move(run), asio::detached);
            std::string out;
            json::writer w(out);
            w.begin_object().member("generator", static_cast<std::int64_t>(job)).end_object();
            co_return json_response(http::status::accepted, std::move(out));
        }
    }
    co_return control_error(http::status::not_found, "unknown control endpoint");
}

} // namespace sfbridge::sim
