// The Bayeux /meta channels of the Streaming API: reading one message, then handshake,
// connect, subscribe, unsubscribe and disconnect, each adding its reply to the request's
// reply_context (cometd_server.cpp writes the replies and holds the connect).
#include "core/json_writer.hpp"
#include "sim/cometd_meta.hpp"
#include "sim/cometd_server.hpp"

#include <simdjson.h>

#include <algorithm>
#include <optional>

namespace sfbridge::sim {
namespace od = simdjson::ondemand;

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

struct cometd_server::message {
    std::string channel, client_id, connection_type, subscription, id;
    std::map<std::string, std::int64_t> replay;
    bool has_replay = false;
    std::optional<std::int64_t> advice_timeout;

    static message read(od::object msg);
    // The reply's common part: the channel, the id, the client and the subscription.
    [[nodiscard]] meta reply() const {
        meta m;
        m.channel = channel;
        m.id = id;
        m.client_id = client_id;
        if (!subscription.empty())
            m.subscription = subscription;
        return m;
    }
};

namespace {

// The message's id, echoed exactly as sent: a string stays a string, a number a number.
void read_id(od::value& v, std::string& id) {
    std::string_view s;
    od::json_type t;
    if (!v.type().get(t) && t == od::json_type::string && !v.get_string().get(s)) {
        json::writer w(id);
        w.string(s);
    } else if (t == od::json_type::number) {
        id = std::string(v.raw_json_token());
        while (!id.empty() && id.back() == ' ')
            id.pop_back();
    }
}

// advice.timeout, if given.
void read_advice(od::value& v, std::optional<std::int64_t>& advice_timeout) {
    od::object a;
    if (!v.get_object().get(a))
        for (auto am : a) {
            std::string_view ak;
            std::int64_t t;
            if (!am.unescaped_key().get(ak) && ak == "timeout" && !am.value().get_int64().get(t))
                advice_timeout = t;
        }
}

// ext.replay: the replay id to start from, per channel.
void read_replay(od::value& v, std::map<std::string, std::int64_t>& replay, bool& has_replay) {
    od::object e;
    if (!v.get_object().get(e))
        for (auto em : e) {
            std::string_view ek;
            od::object r;
            if (em.unescaped_key().get(ek) || ek != "replay" || em.value().get_object().get(r))
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

// A subscription's own errors, the same for subscribe and unsubscribe; false with the error set.
bool check_subscription(meta& m, const std::string& subscription) {
    if (subscription.empty()) {
        m.successful = false;
        m.error = "400::Channel name not specified";
        return false;
    }
    if (subscription.front() != '/') {
        m.successful = false;
        m.error = "400::Channel subscriptions must start with a leading '/'";
        return false;
    }
    return true;
}

} // namespace

cometd_server::message cometd_server::message::read(od::object msg) {
    message out;
    for (auto member : msg) {
        std::string_view key;
        if (member.unescaped_key().get(key))
            continue;
        od::value v;
        if (member.value().get(v))
            continue;
        std::string_view s;
        if (key == "channel" && !v.get_string().get(s))
            out.channel = std::string(s);
        else if (key == "clientId" && !v.get_string().get(s))
            out.client_id = std::string(s);
        else if (key == "connectionType" && !v.get_string().get(s))
            out.connection_type = std::string(s);
        else if (key == "subscription" && !v.get_string().get(s))
            out.subscription = std::string(s);
        else if (key == "id")
            read_id(v, out.id);
        else if (key == "advice")
            read_advice(v, out.advice_timeout);
        else if (key == "ext")
            read_replay(v, out.replay, out.has_replay);
    }
    return out;
}

void cometd_server::process(reply_context& ctx, od::object obj) {
    const message msg = message::read(obj);
    if (msg.channel == "/meta/handshake") {
        meta_handshake(ctx, msg);
        return;
    }
    auto it = checked_session(ctx, msg);
    if (it == sessions_.end())
        return;
    if (msg.channel == "/meta/connect")
        meta_connect(ctx, msg, it);
    else if (msg.channel == "/meta/subscribe")
        meta_subscribe(ctx, msg, *it->second);
    else if (msg.channel == "/meta/unsubscribe")
        meta_unsubscribe(ctx, msg, *it->second);
    else
        meta_disconnect(ctx, msg, it);
}

void cometd_server::meta_handshake(reply_context& ctx, const message& msg) {
    const auto check = tokens_.verify(ctx.token);
    if (check != auth::check::valid) {
        meta m;
        m.channel = "/meta/handshake";
        m.id = msg.id;
        m.successful = false;
        m.error = "403::Handshake denied";
        m.failure_reason = check == auth::check::missing ? "401::Request requires authentication"
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
    w.key("ext").begin_object().member("replay", true).member("payload.format", true).end_object();
    w.member("minimumVersion", "1.0");
    w.member("clientId", s->client_id);
    w.key("supportedConnectionTypes").begin_array().string("long-polling").end_array();
    w.member("channel", "/meta/handshake");
    if (!msg.id.empty())
        w.key("id").raw(msg.id);
    w.member("version", "1.0").member("successful", true).end_object();
    ctx.replies.push_back(std::move(out));
    sessions_[s->client_id] = std::move(s);
}

cometd_server::session_map::iterator cometd_server::checked_session(reply_context& ctx,
                                                                    const message& msg) {
    // Everything but a handshake needs a live session, its cookies and a valid token.
    const std::string& channel = msg.channel;
    auto it = msg.client_id.empty() ? sessions_.end() : sessions_.find(msg.client_id);
    meta m = msg.reply();
    m.successful = false;
    if (channel != "/meta/connect" && channel != "/meta/subscribe" &&
        channel != "/meta/unsubscribe" && channel != "/meta/disconnect") {
        m.error = channel.empty() ? "400::Channel name not specified"
                                  : "403::Publishing to " + channel + " is not allowed";
    } else if (it == sessions_.end()) {
        m.error = channel == "/meta/subscribe" ? "403::Client has not completed handshake"
                                               : "403::Unknown client";
        if (msg.client_id.empty() || channel != "/meta/subscribe")
            m.error = "403::Unknown client";
        m.advice = std::string(advice_handshake);
    } else if (auto browser = ctx.cookies.find("BAYEUX_BROWSER");
               browser == ctx.cookies.end() || browser->second != it->second->browser) {
        m.error = "400::Client " + msg.client_id +
                  " has established a session, but no BAYEUX_BROWSER cookie present";
    } else if (!ctx.cookies.count("sfdc-stream")) {
        // Without its sticky cookie the load balancer sends the request to a server that has
        // never heard of this client.
        m.error = "403::Unknown client";
        m.advice = std::string(advice_handshake);
    } else if (tokens_.verify(ctx.token) != auth::check::valid) {
        m.error = "401::Authentication invalid";
        m.advice = std::string(advice_none);
    } else {
        return it;
    }
    ctx.replies.push_back(write_meta(m));
    return sessions_.end();
}

void cometd_server::meta_connect(reply_context& ctx, const message& msg, session_map::iterator it) {
    session& s = *it->second;
    if (msg.connection_type != "long-polling") {
        meta m = msg.reply();
        m.successful = false;
        m.error = "400::Invalid connection type " + msg.connection_type;
        ctx.replies.push_back(write_meta(m));
        return;
    }
    // The reply is written after events are gathered (and maybe after holding).
    ctx.connect_session = it->second;
    ctx.connect_id = msg.id;
    ctx.connect_first = !s.connected;
    ctx.connect_immediately = !s.connected || (msg.advice_timeout && *msg.advice_timeout == 0);
    s.connected = true;
    ctx.replies.emplace_back(); // placeholder, filled in by handle()
}

void cometd_server::meta_subscribe(reply_context& ctx, const message& msg, session& s) {
    meta m = msg.reply();
    const std::string& subscription = msg.subscription;
    if (!check_subscription(m, subscription)) {
        ctx.replies.push_back(write_meta(m));
        return;
    }
    channel_log* log = streams_.find(subscription);
    std::int64_t from = -1;
    if (msg.has_replay) {
        auto r = msg.replay.find(subscription);
        if (r == msg.replay.end()) {
            m.successful = false;
            std::string map = "{";
            for (const auto& [k, v] : msg.replay)
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
        m.error = "400::The channel you requested to subscribe to doesn't exist " + subscription;
    } else if (!log->valid_replay(from)) {
        m.successful = false;
        m.error = "400::The replayId {" + std::to_string(from) +
                  "} you provided was invalid.  Please provide a valid ID, -2 to replay "
                  "all events, or -1 to replay only new events.";
    } else {
        auto existing =
            std::find_if(s.subscriptions.begin(), s.subscriptions.end(),
                         [&](const channel_cursor& x) { return x.channel == subscription; });
        const std::int64_t position = log->start_position(from);
        if (existing != s.subscriptions.end())
            existing->position = position;
        else
            s.subscriptions.push_back({subscription, position});
    }
    ctx.replies.push_back(write_meta(m));
}

void cometd_server::meta_unsubscribe(reply_context& ctx, const message& msg, session& s) {
    meta m = msg.reply();
    if (check_subscription(m, msg.subscription)) {
        auto& subs = s.subscriptions;
        subs.erase(
            std::remove_if(subs.begin(), subs.end(),
                           [&](const channel_cursor& x) { return x.channel == msg.subscription; }),
            subs.end());
    }
    ctx.replies.push_back(write_meta(m));
}

void cometd_server::meta_disconnect(reply_context& ctx, const message& msg,
                                    session_map::iterator it) {
    session& s = *it->second;
    s.forgotten = true;
    if (s.waiter)
        s.waiter->cancel();
    sessions_.erase(it);
    ctx.replies.push_back(write_meta(msg.reply()));
}

} // namespace sfbridge::sim
