#pragma once

#include "sim/auth.hpp"
#include "sim/http_util.hpp"
#include "sim/streaming.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

// The Bayeux server of the Streaming API at POST /cometd/<version>, as Salesforce runs it:
// JSON arrays only, long-polling only, cookies required after the handshake, the first connect
// answered at once with advice {interval:0, timeout:110000, reconnect:"retry"}, later ones held
// until events arrive or the timeout passes, the replay extension, and sessions forgotten after
// 40 s without a connect.
namespace sfbridge::sim {

namespace asio = boost::asio;

struct cometd_config {
    std::chrono::milliseconds connect_timeout = std::chrono::milliseconds(110000);
    std::chrono::milliseconds session_timeout = std::chrono::seconds(40);
    std::size_t max_batch = 1000; // events in one connect reply
    std::size_t max_request_bytes = 32768;
    // The HTTP status of a reply whose messages failed (successful:false). Unverified in the
    // reference, which assumes 200.
    unsigned failure_http_status = 200;
};

class cometd_server {
public:
    cometd_server(asio::any_io_executor ex, streaming& streams, auth& tokens, cometd_config cfg,
                  std::uint64_t seed);
    ~cometd_server();
    cometd_server(const cometd_server&) = delete;
    cometd_server& operator=(const cometd_server&) = delete;

    // `rest_of_path` is what follows "/cometd" in the target.
    asio::awaitable<response> handle(const request& req, std::string_view rest_of_path);

    // Fault: every session is forgotten at once (held connects answer 403::Unknown client).
    void forget_all_clients();
    // Releases held connects and stops the expiry sweep.
    void stop();
    [[nodiscard]] std::size_t session_count() const noexcept { return sessions_.size(); }
    // Subscriptions of live sessions (tests wait for one instead of sleeping).
    [[nodiscard]] std::size_t subscription_count() const noexcept {
        std::size_t n = 0;
        for (const auto& [id, s] : sessions_)
            n += s->forgotten ? 0 : s->subscriptions.size();
        return n;
    }
    [[nodiscard]] cometd_config& config() noexcept { return cfg_; }

private:
    struct channel_cursor {
        std::string channel;
        std::int64_t position; // the last replay id delivered
    };
    struct session {
        std::string client_id;
        std::string browser;  // BAYEUX_BROWSER cookie value
        std::string balancer; // load-balancer cookie value
        bool connected = false;
        bool forgotten = false;
        std::vector<channel_cursor> subscriptions;
        std::int64_t last_reply_ms = 0;
        asio::steady_timer* waiter = nullptr; // a held connect
    };
    struct reply_context;
    struct message; // one Bayeux message as read (cometd_server_meta.cpp)
    using session_map = std::unordered_map<std::string, std::shared_ptr<session>>;

    // The /meta channels, in cometd_server_meta.cpp: `process` reads one message and hands it
    // to its channel's handler, which adds the reply to `ctx`.
    void process(reply_context& ctx, simdjson::ondemand::object msg);
    void meta_handshake(reply_context& ctx, const message& msg);
    // The session of a message to a channel other than /meta/handshake, or sessions_.end()
    // with the error replied.
    session_map::iterator checked_session(reply_context& ctx, const message& msg);
    void meta_connect(reply_context& ctx, const message& msg, session_map::iterator it);
    void meta_subscribe(reply_context& ctx, const message& msg, session& s);
    void meta_unsubscribe(reply_context& ctx, const message& msg, session& s);
    void meta_disconnect(reply_context& ctx, const message& msg, session_map::iterator it);
    bool collect_events(session& s, std::string& out, std::size_t& count);
    void on_event(const channel_log& log);
    asio::awaitable<void> sweep();
    std::string new_client_id();
    std::int64_t now_ms() const;

    asio::any_io_executor ex_;
    streaming& streams_;
    auth& tokens_;
    cometd_config cfg_;
    std::mt19937_64 rng_;
    session_map sessions_;
    asio::steady_timer sweep_timer_;
    bool stopped_ = false;
};

} // namespace sfbridge::sim
