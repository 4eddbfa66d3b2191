#pragma once

#include "cometd/message.hpp"
#include "cometd/session.hpp"
#include "net/cookie_jar.hpp"
#include "net/http_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// The Bayeux client's I/O: it runs the sans-io session over two HTTP connections (one holds
// /meta/connect, the other carries handshake, subscribe and disconnect), shares one cookie jar
// between them, asks a token provider for tokens, and hands events to the consumer through a
// bounded queue whose fullness holds the next /meta/connect back.
//
// The bound: while the queue is full, no connect goes out until it has drained to half, except
// once per reconnect window (30 s of Salesforce's 40), so that the server never forgets the
// session. So the queue holds at most its capacity plus one reply per window during which the
// consumer made no room: a slow consumer costs that much memory, never a lost session.
namespace sfbridge::cometd {

struct stream_item {
    enum class kind { event, events_lost, fatal };
    kind what = kind::event;
    std::string channel;
    std::int64_t replay_id = 0;
    std::string data;    // the event's data as the server sent it
    std::string message; // for events_lost and fatal
    // When the reply that carried it was read (before the Bayeux messages were parsed): where
    // the consumer's per-stage timing starts.
    std::chrono::steady_clock::time_point received{};
};

struct client_config {
    std::string endpoint; // e.g. https://org.my.salesforce.com/cometd/60.0
    std::vector<std::string> channels;
    net::client_options http;
    session_config session;
    std::size_t queue_capacity = 10000; // events; a reply may overshoot it once
    // And in bytes of event data (a CDC event can be a megabyte): full at either bound, room
    // again once both are down to half.
    std::size_t queue_bytes = std::size_t{64} << 20;
};

class client {
public:
    // Returns a token; `refresh` asks for a new one (the old one was refused). nullopt: no
    // token can be had.
    using token_provider =
        std::function<boost::asio::awaitable<std::optional<std::string>>(bool refresh)>;

    // Throws std::invalid_argument on a bad endpoint URL (a configuration error).
    client(boost::asio::any_io_executor ex, client_config cfg, token_provider tokens);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // The replay id each channel resumes from: the last one committed by the consumer.
    void set_committed(const std::string& channel, std::int64_t replay_id);
    void resubscribe_from_tip(const std::string& channel);

    // Runs until stop() (then a clean /meta/disconnect) or a fatal error, which it returns.
    // Keep the client alive until run() has returned: its operations refer to it.
    boost::asio::awaitable<boost::system::error_code> run();
    void stop();

    // The next item for the consumer; nullopt once the client has stopped and the queue is empty.
    boost::asio::awaitable<std::optional<stream_item>> next();

    [[nodiscard]] std::size_t queued() const noexcept { return queue_.size(); }
    // Handshaken and subscribed: the session is long-polling for events.
    [[nodiscard]] bool connected() const noexcept { return session_.connected(); }
    [[nodiscard]] std::size_t queued_bytes() const noexcept { return queue_bytes_; }
    [[nodiscard]] std::size_t long_poll_connects() const noexcept;

private:
    boost::asio::awaitable<void> long_poll(std::string body, std::chrono::milliseconds timeout);
    boost::asio::awaitable<bool> send(net::http_connection& c, request_kind r, std::string body,
                                      std::chrono::milliseconds timeout);
    void push(stream_item item);
    void wake() noexcept;

    boost::asio::any_io_executor ex_;
    client_config cfg_;
    token_provider tokens_;
    std::string token_;
    net::url endpoint_;
    net::cookie_jar jar_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    std::unique_ptr<net::http_connection> control_;
    std::unique_ptr<net::http_connection> poll_;
    session session_;
    message_parser parser_;
    std::deque<stream_item> queue_;
    std::size_t queue_bytes_ = 0;
    bool queue_full_ = false;
    // The highest replay id handed to the consumer per channel. A resubscription from the
    // committed id replays what is queued but not yet committed; those are not handed twice.
    std::map<std::string, std::int64_t> delivered_;
    boost::asio::steady_timer loop_wakeup_;
    boost::asio::steady_timer consumer_wakeup_;
    boost::asio::steady_timer sleep_;
    bool stopping_ = false;
    bool finished_ = false;
    bool long_poll_running_ = false;
    std::chrono::steady_clock::time_point replied_at_{}; // of the last reply send() read
    bool waiting_for_room_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace sfbridge::cometd
