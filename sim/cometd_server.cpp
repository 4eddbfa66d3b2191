// The Bayeux server's HTTP side: the request's checks, the held connect and the reply, the
// sessions' lifetime and the wake-up on new events. The /meta channels themselves are in
// cometd_server_meta.cpp.
#include "sim/cometd_server.hpp"

#include "core/json_writer.hpp"
#include "sim/cometd_meta.hpp"

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

} // namespace

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
