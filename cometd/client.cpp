#include "cometd/client.hpp"

#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <stdexcept>

namespace sfbridge::cometd {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

client::client(asio::any_io_executor ex, client_config cfg, token_provider tokens)
    : ex_(ex), cfg_(std::move(cfg)), tokens_(std::move(tokens)),
      session_(cfg_.session, cfg_.channels), loop_wakeup_(ex), consumer_wakeup_(ex), sleep_(ex) {
    std::string why;
    auto u = net::parse_url(cfg_.endpoint, &why);
    if (!u)
        throw std::invalid_argument("the CometD endpoint " + cfg_.endpoint +
                                    " is not usable: " + why);
    endpoint_ = *u;
    if (endpoint_.tls())
        tls_ = net::make_tls_context(cfg_.http);
    control_ = std::make_unique<net::http_connection>(ex_, endpoint_, cfg_.http, tls_, &jar_);
    poll_ = std::make_unique<net::http_connection>(ex_, endpoint_, cfg_.http, tls_, &jar_);
}

client::~client() {
    *alive_ = false;
}

std::size_t client::long_poll_connects() const noexcept {
    return poll_->connects();
}

void client::set_committed(const std::string& channel, std::int64_t replay_id) {
    session_.set_committed(channel, replay_id);
}

void client::resubscribe_from_tip(const std::string& channel) {
    delivered_.erase(channel);
    session_.resubscribe_from_tip(channel);
    wake();
}

void client::wake() noexcept {
    loop_wakeup_.cancel();
}

void client::stop() {
    if (stopping_)
        return;
    stopping_ = true;
    session_.stop();
    sleep_.cancel();
    poll_->close(); // the held connect ends now
    wake();
}

namespace {
std::size_t weight(const stream_item& i) {
    return i.data.size() + i.channel.size() + i.message.size();
}
} // namespace

void client::push(stream_item item) {
    queue_bytes_ += weight(item);
    queue_.push_back(std::move(item));
    if (queue_.size() >= cfg_.queue_capacity || queue_bytes_ >= cfg_.queue_bytes) {
        queue_full_ = true;
        session_.on_full(); // again at each push: a new session starts out not full
    }
    consumer_wakeup_.cancel();
}

asio::awaitable<std::optional<stream_item>> client::next() {
    for (;;) {
        if (!queue_.empty()) {
            stream_item item = std::move(queue_.front());
            queue_.pop_front();
            queue_bytes_ -= weight(item);
            // Room again once half the queue has drained: hysteresis, not a connect per event.
            if (queue_full_ && queue_.size() <= cfg_.queue_capacity / 2 &&
                queue_bytes_ <= cfg_.queue_bytes / 2) {
                queue_full_ = false;
                session_.on_room();
                if (waiting_for_room_)
                    sleep_.cancel(); // the wait for room is over
                wake();
            }
            co_return item;
        }
        if (finished_)
            co_return std::nullopt;
        consumer_wakeup_.expires_at(asio::steady_timer::time_point::max());
        (void)co_await consumer_wakeup_.async_wait(use_tuple);
    }
}

asio::awaitable<bool> client::send(net::http_connection& c, request_kind r, std::string body,
                                   std::chrono::milliseconds timeout) {
    net::http_response res;
    net::diagnostics diag;
    net::header_list headers{{"Content-Type", "application/json"}};
    if (!token_.empty())
        headers.emplace_back("Authorization", "Bearer " + token_);
    const auto ec = co_await c.async_request(net::http::verb::post, endpoint_.target,
                                             std::move(body), headers, res, diag, timeout);
    replied_at_ = std::chrono::steady_clock::now();
    if (ec) {
        log::debug("cometd", "request failed", {{"what", diag.summary()}});
        session_.on_failure(r, diag.summary());
        co_return false;
    }
    if (res.status == 413) {
        // Salesforce's "413 Maximum Request Size Exceeded": the same request can never pass.
        session_.abort("the server refused the request as too large (HTTP 413)");
        co_return false;
    }
    if (res.status >= 500) {
        // An overloaded or failing server: back off, whatever the body says.
        log::debug("cometd", "server error", {{"status", static_cast<int>(res.status)}});
        session_.on_failure(r, "HTTP " + std::to_string(res.status));
        co_return false;
    }
    std::vector<message> messages;
    std::string detail;
    // simdjson reads up to SIMDJSON_PADDING bytes past the end (3.0 has no simdjson::pad).
    const std::size_t length = res.body.size();
    res.body.append(simdjson::SIMDJSON_PADDING, ' ');
    if (auto perr = parser_.parse(std::string_view(res.body.data(), length), messages, detail)) {
        // A malformed answer is reported and treated like a failed request, never trusted.
        log::warn("cometd", "malformed Bayeux response",
                  {{"status", static_cast<int>(res.status)},
                   {"error", perr.message()},
                   {"detail", detail}});
        session_.on_failure(r, perr.message());
        co_return false;
    }
    session_.set_now(steady_ms());
    session_.on_reply(r, res.status, messages);
    co_return true;
}

asio::awaitable<void> client::long_poll(std::string body, std::chrono::milliseconds timeout) {
    auto alive = alive_;
    long_poll_running_ = true;
    (void)co_await send(*poll_, request_kind::connect, std::move(body), timeout);
    if (!*alive)
        co_return;
    const auto received = replied_at_; // nothing ran since send() set it
    long_poll_running_ = false;
    for (auto& e : session_.take_events()) {
        if (!e.replay_id) {
            // Salesforce always sends one; without it the event cannot be committed safely.
            log::warn("cometd", "event without a replay id ignored", {{"channel", e.channel}});
            continue;
        }
        auto [it, fresh] = delivered_.try_emplace(e.channel, *e.replay_id);
        if (!fresh) {
            if (*e.replay_id <= it->second)
                continue; // already handed over in this client's life
            it->second = *e.replay_id;
        }
        push({stream_item::kind::event,
              std::move(e.channel),
              *e.replay_id,
              std::move(e.data),
              {},
              received});
    }
    wake();
}

asio::awaitable<error_code> client::run() {
    auto alive = alive_;
    if (auto t = co_await tokens_(false))
        token_ = *t;
    session_.set_now(steady_ms());
    session_.start();
    error_code result;
    for (;;) {
        auto a = session_.next();
        if (!a) {
            loop_wakeup_.expires_at(asio::steady_timer::time_point::max());
            (void)co_await loop_wakeup_.async_wait(use_tuple);
            if (!*alive)
                co_return make_error_code(boost::system::errc::operation_canceled);
            continue;
        }
        switch (a->what) {
        case action::kind::send:
            if (a->request == request_kind::connect) {
                // Network trouble comes back as values; an exception is a programming error
                // and is rethrown out of the io_context (the process exits non-zero and a
                // supervisor restarts it) rather than leaving the stream without a connect.
                asio::co_spawn(ex_, long_poll(std::move(a->body), a->timeout),
                               [](std::exception_ptr e) {
                                   if (e)
                                       std::rethrow_exception(e);
                               });
            } else {
                (void)co_await send(*control_, a->request, std::move(a->body), a->timeout);
            }
            break;
        case action::kind::sleep:
        case action::kind::wait_for_room: {
            // A wait for room ends early when the consumer drains (see next()).
            waiting_for_room_ = a->what == action::kind::wait_for_room;
            sleep_.expires_after(a->timeout);
            (void)co_await sleep_.async_wait(use_tuple);
            waiting_for_room_ = false;
            if (!*alive)
                co_return make_error_code(boost::system::errc::operation_canceled);
            session_.set_now(steady_ms());
            if (!stopping_)
                session_.on_sleep_done();
            break;
        }
        case action::kind::refresh_token: {
            auto t = co_await tokens_(true);
            if (t)
                token_ = *t;
            session_.on_token(t.has_value());
            break;
        }
        case action::kind::events_lost:
            log::warn("cometd", "events lost: the replay id is outside retention",
                      {{"channel", a->channel}});
            push({stream_item::kind::events_lost, a->channel, 0, {}, a->message, {}});
            break;
        case action::kind::fatal:
            log::error("cometd", "stream stopped", {{"reason", a->message}});
            push({stream_item::kind::fatal, {}, 0, {}, a->message, {}});
            result = make_error_code(boost::system::errc::connection_refused);
            [[fallthrough]];
        case action::kind::done:
            // Return only once the long poll is over too: nothing may run after run() returns.
            poll_->close();
            while (long_poll_running_) {
                loop_wakeup_.expires_at(asio::steady_timer::time_point::max());
                (void)co_await loop_wakeup_.async_wait(use_tuple);
            }
            finished_ = true;
            consumer_wakeup_.cancel();
            co_return result;
        }
    }
}

} // namespace sfbridge::cometd
