#include "cometd/session.hpp"

#include "core/backoff.hpp"
#include "core/json_writer.hpp"

#include <algorithm>
#include <cmath>

namespace sfbridge::cometd {
using namespace std::chrono_literals;

namespace {

bool contains(std::string_view text, std::string_view what) {
    return text.find(what) != std::string_view::npos;
}

// "403::Unknown client", with or without a clientId, and the vanilla CometD 402: the server
// forgot the session, or a load balancer sent us to a server that never knew it.
bool unknown_client(const message& m) {
    return (m.error_code() == 403 || m.error_code() == 402) && contains(m.error, "Unknown client");
}

// Errors that a fresh session (new handshake, new cookies) cures.
bool needs_new_session(const message& m) {
    return unknown_client(m) || contains(m.error, "has not completed handshake") ||
           contains(m.error, "cookie present");
}

bool auth_error(const message& m) {
    return m.error_code() == 401 || m.failure_reason.starts_with("401");
}

} // namespace

session::session(session_config cfg, std::vector<std::string> channels, std::uint64_t seed)
    : cfg_(cfg), channels_(std::move(channels)), rng_(seed) {}

const message* session::reply_to(const std::vector<message>& msgs, std::string_view channel,
                                 request_kind r) const {
    auto sent = sent_id_.find(r);
    for (const auto& m : msgs)
        if (m.channel == channel &&
            (m.id.empty() || sent == sent_id_.end() || m.id == sent->second))
            return &m;
    return nullptr;
}

void session::abort(std::string why) {
    if (state_ != state::failed && state_ != state::stopped)
        fail(std::move(why));
}

void session::set_committed(const std::string& channel, std::int64_t replay_id) {
    committed_[channel] = replay_id;
}

std::chrono::milliseconds session::connect_read_timeout() const noexcept {
    // Derived from the server's advice, never hard-coded: the hold plus a margin.
    return (advised_timeout_.count() > 0 ? advised_timeout_ : cfg_.assumed_hold) +
           cfg_.network_margin;
}

std::optional<action> session::next() {
    if (pending_.empty())
        return std::nullopt;
    action a = std::move(pending_.front());
    pending_.pop_front();
    return a;
}

std::vector<message> session::take_events() {
    std::vector<message> out;
    out.swap(events_);
    return out;
}

void session::start() {
    if (state_ != state::idle)
        return;
    handshake();
}

void session::handshake() {
    // A new session subscribes every channel again once handshaken.
    subscribe_batches_.clear();
    subscribe_in_flight_ = false;
    state_ = state::handshaking;
    client_id_.clear();
    std::string body;
    json::writer w(body);
    w.begin_array().begin_object();
    w.member("channel", "/meta/handshake").member("version", "1.0").member("minimumVersion", "1.0");
    w.key("supportedConnectionTypes").begin_array().string("long-polling").end_array();
    w.key("ext").begin_object().member("replay", true).end_object();
    const std::string id = next_id();
    sent_id_[request_kind::handshake] = id;
    w.member("id", id);
    w.end_object().end_array();
    pending_.push_back({action::kind::send,
                        request_kind::handshake,
                        std::move(body),
                        cfg_.control_timeout,
                        {},
                        {}});
}

void session::subscribe(const std::vector<std::string>& channels) {
    if (state_ != state::connected)
        state_ = state::subscribing;
    // Batches of whole messages, each request under the server's size limit (a message that
    // alone is larger goes alone, and the server's 413 says so).
    std::string body = "[";
    for (const auto& ch : channels) {
        auto it = committed_.find(ch);
        const std::int64_t from = it == committed_.end() ? -1 : it->second;
        std::string one;
        json::writer w(one);
        w.begin_object().member("channel", "/meta/subscribe").member("clientId", client_id_);
        w.member("subscription", ch);
        w.key("ext")
            .begin_object()
            .key("replay")
            .begin_object()
            .member(ch, from)
            .end_object()
            .end_object();
        const std::string id = next_id();
        subscribe_ids_[id] = ch;
        w.member("id", id).end_object();
        if (body.size() > 1 && body.size() + 1 + one.size() + 1 > cfg_.max_request_bytes) {
            subscribe_batches_.push_back(body + "]");
            body = "[";
        }
        body += (body.size() > 1 ? "," : "") + one;
    }
    if (body.size() > 1)
        subscribe_batches_.push_back(body + "]");
    if (!subscribe_in_flight_)
        send_next_subscribe();
}

// One batch in flight at a time: the next goes out when the last one's reply was taken in.
void session::send_next_subscribe() {
    subscribe_in_flight_ = !subscribe_batches_.empty();
    if (!subscribe_in_flight_)
        return;
    pending_.push_back({action::kind::send,
                        request_kind::subscribe,
                        std::move(subscribe_batches_.front()),
                        cfg_.control_timeout,
                        {},
                        {}});
    subscribe_batches_.pop_front();
}

void session::connect() {
    if (connect_in_flight_ || state_ != state::connected)
        return;
    // Back-pressure: no new connect while the consumer is full, unless the server's reconnect
    // window is about to pass (then the session would expire, which costs a re-handshake).
    const std::int64_t waited = now_ms_ - last_connect_reply_ms_;
    if (consumer_full_ && waited < cfg_.reconnect_window.count()) {
        if (!connect_waiting_for_room_) {
            connect_waiting_for_room_ = true;
            pending_.push_back({action::kind::wait_for_room,
                                request_kind::connect,
                                {},
                                std::chrono::milliseconds(cfg_.reconnect_window.count() - waited),
                                {},
                                {}});
        }
        return;
    }
    connect_waiting_for_room_ = false;
    connect_in_flight_ = true;
    std::string body;
    json::writer w(body);
    w.begin_array().begin_object();
    w.member("channel", "/meta/connect").member("clientId", client_id_);
    const std::string id = next_id();
    sent_id_[request_kind::connect] = id;
    w.member("connectionType", "long-polling").member("id", id);
    w.end_object().end_array();
    pending_.push_back({action::kind::send,
                        request_kind::connect,
                        std::move(body),
                        connect_read_timeout(),
                        {},
                        {}});
}

void session::backoff(std::chrono::milliseconds initial, request_kind then) {
    if (then == request_kind::subscribe) { // every channel is subscribed again after the wait
        subscribe_batches_.clear();
        subscribe_in_flight_ = false;
    }
    ++failures_;
    state_ = state::backing_off;
    after_backoff_ = then;
    // Exponential, capped, with jitter (core/backoff): never a hot loop, never a thundering herd.
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto delay =
        backoff_delay({initial, cfg_.backoff_max, 2.0, cfg_.jitter}, failures_, unit(rng_));
    pending_.push_back({action::kind::sleep, then, {}, delay, {}, {}});
}

void session::rehandshake() {
    connect_in_flight_ = false;
    handshake();
}

void session::fail(std::string why) {
    state_ = state::failed;
    pending_.push_back({action::kind::fatal, request_kind::handshake, {}, 0ms, {}, std::move(why)});
}

void session::auth_failure(const std::string& why) {
    if (auth_refreshes_ >= 1) {
        fail("authentication failed again after a fresh token: " + why);
        return;
    }
    ++auth_refreshes_;
    state_ = state::refreshing;
    connect_in_flight_ = false;
    pending_.push_back({action::kind::refresh_token, request_kind::handshake, {}, 0ms, {}, why});
}

void session::on_token(bool refreshed) {
    if (state_ != state::refreshing)
        return;
    if (!refreshed) {
        fail("could not get a fresh token");
        return;
    }
    handshake();
}

void session::on_room() {
    consumer_full_ = false;
    if (connect_waiting_for_room_) {
        connect_waiting_for_room_ = false;
        connect();
    }
}

void session::on_full() {
    consumer_full_ = true;
}

void session::on_sleep_done() {
    if (state_ == state::backing_off) {
        switch (after_backoff_) {
        case request_kind::handshake:
            handshake();
            return;
        case request_kind::subscribe:
            state_ = state::subscribing;
            subscribe(channels_);
            return;
        case request_kind::connect:
            state_ = state::connected;
            connect();
            return;
        case request_kind::disconnect:
            return;
        }
    }
    if (state_ == state::connected && connect_waiting_for_room_) {
        // The reconnect window is running out: connect even without room.
        consumer_full_ = false;
        connect_waiting_for_room_ = false;
        connect();
        consumer_full_ = true;
        return;
    }
    if (state_ == state::connected)
        connect(); // after an advised interval
}

void session::stop() {
    switch (state_) {
    case state::stopping:
    case state::stopped:
        return;
    case state::idle:
    case state::failed:
        state_ = state::stopped;
        pending_.push_back({action::kind::done, request_kind::disconnect, {}, 0ms, {}, {}});
        return;
    default:
        break;
    }
    pending_.clear();
    if (client_id_.empty()) {
        state_ = state::stopped;
        pending_.push_back({action::kind::done, request_kind::disconnect, {}, 0ms, {}, {}});
        return;
    }
    state_ = state::stopping;
    std::string body;
    json::writer w(body);
    w.begin_array().begin_object().member("channel", "/meta/disconnect");
    const std::string id = next_id();
    sent_id_[request_kind::disconnect] = id;
    w.member("clientId", client_id_).member("id", id).end_object().end_array();
    // A courtesy (the server forgets an idle client anyway), sent while the process is
    // shutting down under a deadline: it gets a short timeout of its own.
    pending_.push_back({action::kind::send,
                        request_kind::disconnect,
                        std::move(body),
                        std::min(cfg_.control_timeout, cfg_.disconnect_timeout),
                        {},
                        {}});
}

void session::resubscribe_from_tip(const std::string& channel) {
    committed_[channel] = -1;
    if (state_ == state::connected || state_ == state::subscribing)
        subscribe({channel});
}

void session::on_failure(request_kind r, std::string what) {
    (void)what;
    if (state_ == state::stopping) {
        if (r == request_kind::disconnect) {
            state_ = state::stopped;
            pending_.push_back({action::kind::done, request_kind::disconnect, {}, 0ms, {}, {}});
        }
        return;
    }
    if (state_ == state::failed || state_ == state::stopped)
        return;
    if (r == request_kind::connect) {
        connect_in_flight_ = false;
        if (state_ != state::connected)
            return; // a re-handshake is already under way
        // A connect that failed on our side (deadline, reset) may have had events in its
        // reply: the server counts them delivered. Only a new session that resubscribes from
        // the committed replay ids gets them back, so start one rather than just reconnect.
        backoff(busy_ ? cfg_.busy_backoff_initial : cfg_.backoff_initial, request_kind::handshake);
        return;
    }
    backoff(busy_ ? cfg_.busy_backoff_initial : cfg_.backoff_initial, r);
}

void session::on_reply(request_kind r, unsigned status, const std::vector<message>& messages) {
    if (state_ == state::stopping && r == request_kind::disconnect) {
        state_ = state::stopped;
        pending_.push_back({action::kind::done, request_kind::disconnect, {}, 0ms, {}, {}});
        return;
    }
    if (state_ == state::failed || state_ == state::stopped || state_ == state::stopping)
        return;

    if (r == request_kind::handshake) {
        const message* m = reply_to(messages, "/meta/handshake", r);
        if (!m || status >= 500) {
            on_failure(r, "no handshake reply (HTTP " + std::to_string(status) + ")");
            return;
        }
        if (m->successful == true && !m->client_id.empty()) {
            client_id_ = m->client_id;
            failures_ = 0;
            busy_ = false;
            auth_refreshes_ = 0;
            subscribe(channels_);
            return;
        }
        const std::string why =
            m->failure_reason.empty() ? m->error : m->error + " (" + m->failure_reason + ")";
        if (auth_error(*m)) {
            auth_failure(why);
        } else if (contains(m->failure_reason, "concurrent user limit")) {
            busy_ = true;
            backoff(cfg_.busy_backoff_initial, request_kind::handshake);
        } else if (m->failure_reason.starts_with("503") || m->error_code() == 503 ||
                   contains(m->failure_reason, "simultaneous connections")) {
            backoff(cfg_.backoff_initial, request_kind::handshake);
        } else if (m->server_advice && m->server_advice->reconnect == "none") {
            fail("handshake refused: " + why);
        } else {
            backoff(cfg_.backoff_initial, request_kind::handshake);
        }
        return;
    }

    if (r == request_kind::subscribe) {
        if (status >= 500 || messages.empty()) {
            on_failure(r, "no subscribe reply");
            return;
        }
        for (const auto& reply : messages) {
            if (reply.channel != "/meta/subscribe")
                continue;
            message m = reply;
            // Matched by id; the subscription field is the fallback for servers that omit it.
            if (auto it = subscribe_ids_.find(m.id); it != subscribe_ids_.end()) {
                if (m.subscription.empty())
                    m.subscription = it->second;
                subscribe_ids_.erase(it);
            }
            if (m.successful == true)
                continue;
            if (needs_new_session(m)) {
                rehandshake();
                return;
            }
            if (auth_error(m)) {
                auth_failure(m.error);
                return;
            }
            if (m.error_code() == 400 && contains(m.error, "replayId") &&
                contains(m.error, "invalid")) {
                // Retention passed: events between the committed id and now are gone.
                pending_.push_back({action::kind::events_lost,
                                    request_kind::subscribe,
                                    {},
                                    0ms,
                                    m.subscription,
                                    m.error});
                continue;
            }
            if (m.error_code() == 503) {
                backoff(cfg_.backoff_initial, request_kind::subscribe);
                return;
            }
            fail("cannot subscribe to " + m.subscription + ": " + m.error);
            return;
        }
        subscribe_in_flight_ = false;
        if (!subscribe_batches_.empty()) {
            send_next_subscribe();
            return;
        }
        if (state_ == state::subscribing) {
            state_ = state::connected;
            failures_ = 0;
            connect();
        }
        return;
    }

    if (r == request_kind::connect) {
        connect_in_flight_ = false;
        last_connect_reply_ms_ = now_ms_;
        const message* m = reply_to(messages, "/meta/connect", r);
        for (const auto& e : messages)
            if (!e.is_meta() &&
                std::find(channels_.begin(), channels_.end(), e.channel) != channels_.end())
                events_.push_back(e);
        if (state_ != state::connected)
            return; // a reply that crossed a re-handshake
        if (!m || status >= 500) {
            on_failure(r, "no connect reply (HTTP " + std::to_string(status) + ")");
            return;
        }
        if (m->server_advice) {
            if (m->server_advice->timeout)
                advised_timeout_ = std::chrono::milliseconds(*m->server_advice->timeout);
            if (m->server_advice->interval)
                advised_interval_ = std::chrono::milliseconds(*m->server_advice->interval);
        }
        const std::string reconnect = m->server_advice ? m->server_advice->reconnect : "";
        if (m->successful == true) {
            failures_ = 0;
            if (reconnect == "handshake") {
                rehandshake();
            } else if (reconnect == "none") {
                fail("the server asked not to reconnect");
            } else if (advised_interval_.count() > 0) {
                pending_.push_back(
                    {action::kind::sleep, request_kind::connect, {}, advised_interval_, {}, {}});
            } else {
                connect();
            }
            return;
        }
        if (needs_new_session(*m) || reconnect == "handshake") {
            rehandshake();
        } else if (auth_error(*m)) {
            auth_failure(m->error);
        } else if (contains(m->error, "daily limit exceeded")) {
            // The org spent its daily event allocation: wait long, then start over.
            busy_ = true;
            backoff(cfg_.busy_backoff_initial, request_kind::handshake);
        } else if (reconnect == "none") {
            fail("connect refused: " + m->error);
        } else {
            backoff(cfg_.backoff_initial, request_kind::connect);
        }
        return;
    }
}

} // namespace sfbridge::cometd
