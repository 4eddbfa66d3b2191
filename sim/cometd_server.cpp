#include "sim/cometd_server.hpp"

#include "core/json_writer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace sfbridge::sim {
namespace od = simdjson::ondemand;

namespace {

constexpr int min_api_version = 37;

std::map<std::string, std::string, std::less<>> parse_cookies(const request& req) {
    std::map<std::string, std::string, std::less<>> out;
    for (const auto& h : req) {
        if (h.name() != http::field::cookie)
            continue;
        std::string_view v = h.value();
        while (!v.empty()) {
            const auto semi = v.find(';');
            std::string_view pair = v.substr(0, semi);
            while (!pair.empty() && pair.front() == ' ')
                pair.remove_prefix(1);
            const auto eq = pair.find('=');
            if (eq != std::string_view::npos)
                out[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
            if (semi == std::string_view::npos)
                break;
            v.remove_prefix(semi + 1);
        }
    }
    return out;
}

response bayeux_http_error(http::status s, std::string_view error) {
    std::string body;
    json::writer w(body);
    w.begin_array().begin_object().member("error", error).member("successful", false);
    w.end_object().end_array();
    return json_response(s, std::move(body));
}

// One /meta reply. `id` is the request's id as raw JSON (string or number), echoed as sent.
struct meta {
    std::string_view channel;
    std::string_view id;
    std::string_view client_id;
    bool successful = true;
    std::string error;
    std::string advice; // raw JSON object, or empty
    std::string subscription;
    std::string failure_reason; // ext.sfdc.failureReason
};

std::string write_meta(const meta& m) {
    std::string out;
    json::writer w(out);
    w.begin_object();
    if (!m.client_id.empty())
        w.member("clientId", m.client_id);
    w.member("channel", m.channel);
    if (!m.id.empty())
        w.key("id").raw(m.id);
    if (!m.subscription.empty())
        w.member("subscription", m.subscription);
    if (!m.advice.empty())
        w.key("advice").raw(m.advice);
    if (!m.failure_reason.empty())
        w.key("ext")
            .begin_object()
            .key("sfdc")
            .begin_object()
            .member("failureReason", m.failure_reason)
            .end_object()
            .end_object();
    if (!m.error.empty())
        w.member("error", m.error);
    w.member("successful", m.successful);
    w.end_object();
    return out;
}

constexpr std::string_view advice_handshake = R"({"interval":0,"reconnect":"handshake"})";
constexpr std::string_view advice_none = R"({"interval":0,"reconnect":"none"})";

} // namespace

struct cometd_server::reply_context {
    std::vector<std::string> replies;
    std::shared_ptr<session> connect_session;
    std::string connect_id;
    bool connect_immediately = false;
    bool connect_first = false;
    std::vector<std::string> set_cookies;
    std::string token;
    std::map<std::string, std::string, std::less<>> cookies;
};

cometd_server::cometd_server(asio::any_io_executor ex, streaming& streams, auth& tokens,
                             cometd_config cfg, std::uint64_t seed)
    : ex_(ex), streams_(streams), tokens_(tokens), cfg_(cfg), rng_(seed), sweep_timer_(ex) {
    streams_.set_listener([this](const channel_log& log) { on_event(log); });
    asio::co_spawn(ex_, sweep(), asio::detached);
}

cometd_server::~cometd_server() {
    stop();
}

std::int64_t cometd_server::now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string cometd_server::new_client_id() {
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string id;
    const std::size_t len = 26 + rng_() % 4;
    for (std::size_t i = 0; i < len; ++i)
        id.push_back(alphabet[rng_() % 36]);
    return id;
}

void cometd_server::stop() {
    if (stopped_)
        return;
    stopped_ = true;
    sweep_timer_.cancel();
    for (auto& [id, s] : sessions_) {
        s->forgotten = true;
        if (s->waiter)
            s->waiter->cancel();
    }
    sessions_.clear();
    streams_.set_listener({});
}

void cometd_server::forget_all_clients() {
    for (auto& [id, s] : sessions_) {
        s->forgotten = true;
        if (s->waiter)
            s->waiter->cancel();
    }
    sessions_.clear();
}

asio::awaitable<void> cometd_server::sweep() {
    while (!stopped_) {
        sweep_timer_.expires_after(std::min<std::chrono::milliseconds>(
            std::chrono::seconds(1), cfg_.session_timeout / 4 + std::chrono::milliseconds(1)));
        (void)co_await sweep_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        if (stopped_)
            co_return;
        // A session with no connect held for longer than the reconnect window is forgotten.
        const std::int64_t now = now_ms();
        for (auto it = sessions_.begin(); it != sessions_.end();) {
            session& s = *it->second;
            if (!s.waiter && now - s.last_reply_ms > cfg_.session_timeout.count()) {
                s.forgotten = true;
                it = sessions_.erase(it);
            } else {
                ++it;
            }
        }
        streams_.expire();
    }
}

void cometd_server::on_event(const channel_log& log) {
    for (auto& [id, s] : sessions_) {
        if (!s->waiter)
            continue;
        for (const auto& sub : s->subscriptions)
            if (sub.channel == log.name()) {
                s->waiter->cancel();
                break;
            }
    }
}

bool cometd_server::collect_events(session& s, std::string& out, std::size_t& count) {
    for (auto& sub : s.subscriptions) {
        channel_log* log = streams_.find(sub.channel);
        if (!log)
            continue;
        for (auto it = log->after(sub.position);
             it != log->events().end() && count < cfg_.max_batch; ++it) {
            if (!out.empty())
                out.push_back(',');
            out.append(it->message);
            sub.position = it->replay_id;
            ++count;
        }
    }
    return count > 0;
}

void cometd_server::process(reply_context& ctx, od::object msg) {
    std::string channel, client_id, connection_type, subscription, id;
    std::map<std::string, std::int64_t> replay;
    bool has_replay = false;
    std::optional<std::int64_t> advice_timeout;
    for (auto member : msg) {
        std::string_view key;
        if (member.unescaped_key().get(key))
            continue;
        od::value v;
        if (member.value().get(v))
            continue;
        std::string_view s;
        if (key == "channel" && !v.get_string().get(s))
            channel = std::string(s);
        else if (key == "clientId" && !v.get_string().get(s))
            client_id = std::string(s);
        else if (key == "connectionType" && !v.get_string().get(s))
            connection_type = std::string(s);
        else if (key == "subscription" && !v.get_string().get(s))
            subscription = std::string(s);
        else if (key == "id") {
            // Echoed exactly as sent: a string stays a string, a number a number.
            od::json_type t;
            if (!v.type().get(t) && t == od::json_type::string && !v.get_string().get(s)) {
                json::writer w(id);
                w.string(s);
            } else if (t == od::json_type::number) {
                id = std::string(v.raw_json_token());
                while (!id.empty() && id.back() == ' ')
                    id.pop_back();
            }
        } else if (key == "advice") {
            od::object a;
            if (!v.get_object().get(a))
                for (auto am : a) {
                    std::string_view ak;
                    std::int64_t t;
                    if (!am.unescaped_key().get(ak) && ak == "timeout" &&
                        !am.value().get_int64().get(t))
                        advice_timeout = t;
                }
        } else if (key == "ext") {
            od::object e;
            if (!v.get_object().get(e))
                for (auto em : e) {
                    std::string_view ek;
                    od::object r;
                    if (em.unescaped_key().get(ek) || ek != "replay" ||
                        em.value().get_object().get(r))
                        continue;
                    has_replay = true;
                    for (auto rm : r) {
                        std::string_view rk;
                        std::int64_t rv;
                        if (!rm.unescaped_key().get(rk) && !rm.value().get_int64().get(rv))
                            replay[std::string(rk)] = rv;
                    }
                }
        }
    }

    if (channel == "/meta/handshake") {
        meta m;
        m.channel = "/meta/handshake";
        m.id = id;
        const auto check = tokens_.verify(ctx.token);
        if (check != auth::check::valid) {
            m.successful = false;
            m.error = "403::Handshake denied";
            m.failure_reason = check == auth::check::missing
                                   ? "401::Request requires authentication"
                                   : "401::Authentication invalid";
            m.advice = std::string(advice_none);
            ctx.replies.push_back(write_meta(m));
            return;
        }
        auto s = std::make_shared<session>();
        s->client_id = new_client_id();
        // The browser cookie outlives sessions; the balancer cookie is sticky too.
        auto b = ctx.cookies.find("BAYEUX_BROWSER");
        s->browser = b != ctx.cookies.end() ? b->second : new_client_id();
        auto lb = ctx.cookies.find("sfdc-stream");
        s->balancer = lb != ctx.cookies.end() ? lb->second : "!" + new_client_id();
        s->last_reply_ms = now_ms();
        ctx.set_cookies.push_back("BAYEUX_BROWSER=" + s->browser + "; Path=/cometd/; HttpOnly");
        ctx.set_cookies.push_back("sfdc-stream=" + s->balancer + "; Path=/; SameSite=None");
        std::string out;
        json::writer w(out);
        w.begin_object();
        w.key("ext")
            .begin_object()
            .member("replay", true)
            .member("payload.format", true)
            .end_object();
        w.member("minimumVersion", "1.0");
        w.member("clientId", s->client_id);
        w.key("supportedConnectionTypes").begin_array().string("long-polling").end_array();
        w.member("channel", "/meta/handshake");
        if (!id.empty())
            w.key("id").raw(id);
        w.member("version", "1.0").member("successful", true).end_object();
        ctx.replies.push_back(std::move(out));
        sessions_[s->client_id] = std::move(s);
        return;
    }

    // Everything else needs a live session, its cookies and a valid token.
    auto it = client_id.empty() ? sessions_.end() : sessions_.find(client_id);
    meta m;
    m.channel = channel;
    m.id = id;
    m.client_id = client_id;
    if (!subscription.empty())
        m.subscription = subscription;
    if (channel != "/meta/connect" && channel != "/meta/subscribe" &&
        channel != "/meta/unsubscribe" && channel != "/meta/disconnect") {
        m.successful = false;
        m.error = channel.empty() ? "400::Channel name not specified"
                                  : "403::Publishing to " + channel + " is not allowed";
        ctx.replies.push_back(write_meta(m));
        return;
    }
    if (it == sessions_.end()) {
        m.successful = false;
        m.error = channel == "/meta/subscribe" ? "403::Client has not completed handshake"
                                               : "403::Unknown client";
        if (client_id.empty() || channel != "/meta/subscribe")
            m.error = "403::Unknown client";
        m.advice = std::string(advice_handshake);
        ctx.replies.push_back(write_meta(m));
        return;
    }
    session& s = *it->second;
    auto browser = ctx.cookies.find("BAYEUX_BROWSER");
    if (browser == ctx.cookies.end() || browser->second != s.browser) {
        m.successful = false;
        m.error = "400::Client " + client_id +
                  " has established a session, but no BAYEUX_BROWSER cookie present";
        ctx.replies.push_back(write_meta(m));
        return;
    }
    if (!ctx.cookies.count("sfdc-stream")) {
        // Without its sticky cookie the load balancer sends the request to a server that has
        // never heard of this client.
        m.successful = false;
        m.error = "403::Unknown client";
        m.advice = std::string(advice_handshake);
        ctx.replies.push_back(write_meta(m));
        return;
    }
    if (tokens_.verify(ctx.token) != auth::check::valid) {
        m.successful = false;
        m.error = "401::Authentication invalid";
        m.advice = std::string(advice_none);
        ctx.replies.push_back(write_meta(m));
        return;
    }

    if (channel == "/meta/connect") {
        if (connection_type != "long-polling") {
            m.successful = false;
            m.error = "400::Invalid connection type " + connection_type;
            ctx.replies.push_back(write_meta(m));
            return;
        }
        // The reply is written after events are gathered (and maybe after holding).
        ctx.connect_session = it->second;
        ctx.connect_id = id;
        ctx.connect_first = !s.connected;
        ctx.connect_immediately = !s.connected || (advice_timeout && *advice_timeout == 0);
        s.connected = true;
        ctx.replies.emplace_back(); // placeholder, filled in by handle()
        return;
    }
    if (channel == "/meta/subscribe" || channel == "/meta/unsubscribe") {
        if (subscription.empty()) {
            m.successful = false;
            m.error = "400::Channel name not specified";
        } else if (subscription.front() != '/') {
            m.successful = false;
            m.error = "400::Channel subscriptions must start with a leading '/'";
        } else if (channel == "/meta/unsubscribe") {
            auto& subs = s.subscriptions;
            subs.erase(
                std::remove_if(subs.begin(), subs.end(),
                               [&](const channel_cursor& x) { return x.channel == subscription; }),
                subs.end());
        } else {
            channel_log* log = streams_.find(subscription);
            std::int64_t from = -1;
            if (has_replay) {
                auto r = replay.find(subscription);
                if (r == replay.end()) {
                    m.successful = false;
                    std::string map = "{";
                    for (const auto& [k, v] : replay)
                        map += (map.size() > 1 ? ", " : "") + k + "=" + std::to_string(v);
                    m.error = "400::The replayId for channel {" + subscription +
                              "} wasn't found using the provided replay ID map " + map + "}";
                } else {
                    from = r->second;
                }
            }
            if (!m.successful) {
            } else if (!log) {
                m.successful = false;
                m.error =
                    "400::The channel you requested to subscribe to doesn't exist " + subscription;
            } else if (!log->valid_replay(from)) {
                m.successful = false;
                m.error = "400::The replayId {" + std::to_string(from) +
                          "} you provided was invalid.  Please provide a valid ID, -2 to replay "
                          "all events, or -1 to replay only new events.";
            } else {
                auto existing = std::find_if(
                    s.subscriptions.begin(), s.subscriptions.end(),
                    [&](const channel_cursor& x) { return x.channel == subscription; });
                const std::int64_t position = log->start_position(from);
                if (existing != s.subscriptions.end())
                    existing->position = position;
                else
                    s.subscriptions.push_back({subscription, position});
            }
        }
        ctx.replies.push_back(write_meta(m));
        return;
    }
    // /meta/disconnect
    s.forgotten = true;
    if (s.waiter)
        s.waiter->cancel();
    sessions_.erase(it);
    ctx.replies.push_back(write_meta(m));
}

asio::awaitable<response> cometd_server::handle(const request& req, std::string_view rest) {
    // /cometd/<version>[/]
    while (!rest.empty() && rest.front() == '/')
        rest.remove_prefix(1);
    std::string_view version = rest.substr(0, rest.find('/'));
    int major = 0;
    std::from_chars(version.data(), version.data() + version.size(), major);
    if (version.empty())
        co_return bayeux_http_error(
            http::status::bad_request,
            "400::API version in the URI is mandatory. URI format: '/cometd/62.0'");
    if (major < min_api_version)
        co_return bayeux_http_error(http::status::bad_request,
                                    "400::Unsupported API version. Only API versions '37.0' and "
                                    "later are supported. URI format: '/cometd/62.0'");
    if (req.method() != http::verb::post)
        co_return bayeux_http_error(http::status::method_not_allowed, "405::POST only");
    if (req.body().size() > cfg_.max_request_bytes) {
        response r{http::status::payload_too_large, 11};
        r.body() = "Maximum Request Size Exceeded";
        co_return r;
    }

    reply_context ctx;
    ctx.token = std::string(bearer_token(req));
    ctx.cookies = parse_cookies(req);
    {
        od::parser parser;
        simdjson::padded_string body(req.body());
        od::document doc;
        od::array messages;
        // Since Winter '27 a bare object is refused: the body must be a JSON array.
        if (parser.iterate(body).get(doc) || doc.get_array().get(messages))
            co_return bayeux_http_error(http::status::bad_request,
                                        "400::The request body must be a JSON array of Bayeux "
                                        "messages");
        for (auto element : messages) {
            od::object msg;
            if (element.get_object().get(msg))
                co_return bayeux_http_error(http::status::bad_request,
                                            "400::Each Bayeux message must be a JSON object");
            process(ctx, msg);
        }
    }

    std::string events;
    if (auto s = ctx.connect_session) {
        std::size_t count = 0;
        collect_events(*s, events, count);
        if (count == 0 && !ctx.connect_immediately) {
            // Hold the connect until an event arrives, the timeout passes, or the session goes.
            asio::steady_timer waiter(ex_);
            waiter.expires_after(cfg_.connect_timeout);
            if (s->waiter)
                s->waiter->cancel(); // a newer connect releases the older one
            s->waiter = &waiter;
            (void)co_await waiter.async_wait(asio::as_tuple(asio::use_awaitable));
            if (s->waiter == &waiter)
                s->waiter = nullptr;
            if (!s->forgotten)
                collect_events(*s, events, count);
        }
        meta m;
        m.channel = "/meta/connect";
        m.id = ctx.connect_id;
        m.client_id = s->client_id;
        if (s->forgotten) {
            m.successful = false;
            m.error = "403::Unknown client";
            m.advice = std::string(advice_handshake);
        } else if (ctx.connect_first) {
            m.advice = R"({"interval":0,"timeout":)" +
                       std::to_string(cfg_.connect_timeout.count()) + R"(,"reconnect":"retry"})";
        }
        s->last_reply_ms = now_ms();
        for (auto& r : ctx.replies)
            if (r.empty())
                r = write_meta(m);
    }

    std::string body;
    body.reserve(events.size() + 256);
    body.push_back('[');
    // Events first, then the replies, as CometD servers deliver them.
    body.append(events);
    for (const auto& r : ctx.replies) {
        if (body.size() > 1)
            body.push_back(',');
        body.append(r);
    }
    body.push_back(']');
    const bool failed = body.find("\"successful\":false") != std::string::npos;
    response res = json_response(failed ? static_cast<http::status>(cfg_.failure_http_status)
                                        : http::status::ok,
                                 std::move(body));
    for (const auto& c : ctx.set_cookies)
        res.insert(http::field::set_cookie, c);
    co_return res;
}

} // namespace sfbridge::sim
