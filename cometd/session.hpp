#pragma once

#include "cometd/message.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

// The Bayeux session as Salesforce runs it, without any I/O (after Boost.MySQL's sans-io
// algorithms): the driver asks next() what to do, does it, and reports what happened. It
// handshakes, subscribes every channel from the replay id the consumer *committed*, keeps one
// /meta/connect in flight, follows advice, backs off with jitter, re-handshakes when the server
// forgets the client, refreshes the token once on an authentication failure, and reports lost
// events per channel. It never marks an event as processed by itself.
namespace sfbridge::cometd {

struct session_config {
    // Added to advice.timeout to make the read deadline of a held connect.
    std::chrono::milliseconds network_margin{10000};
    // The hold assumed before the server's first advice (Salesforce: 110 s).
    std::chrono::milliseconds assumed_hold{110000};
    std::chrono::milliseconds control_timeout{30000};   // handshake, subscribe
    std::chrono::milliseconds disconnect_timeout{1000}; // the courtesy /meta/disconnect at stop
    std::chrono::milliseconds backoff_initial{500};
    std::chrono::milliseconds backoff_max{60000};
    // "403::Organization concurrent user limit exceeded" waits longer: other clients must leave.
    std::chrono::milliseconds busy_backoff_initial{15000};
    double jitter = 0.25; // +-25% of each backoff
    // A connect goes out without room for events when the last reply is this old, so that the
    // server's 40-second reconnect window never passes.
    std::chrono::milliseconds reconnect_window{30000};
    // Salesforce refuses a request past 32,768 bytes ("413 Maximum Request Size Exceeded"):
    // subscriptions go out in batches under it, one batch at a time.
    std::size_t max_request_bytes = 32768;
};

enum class request_kind { handshake, subscribe, connect, disconnect };

struct action {
    enum class kind {
        send,          // POST `body`; on the long-poll connection for a connect
        sleep,         // wait `timeout`, then call on_sleep_done()
        wait_for_room, // wait up to `timeout` for on_room(); then call on_sleep_done() either way
        refresh_token, // get a new token, then call on_token(ok)
        events_lost,   // `channel` lost events (replay id outside retention): resynchronise,
                       // then resubscribe_from_tip(channel)
        fatal,         // the stream cannot go on: `message` says why
        done,          // stopped cleanly
    };
    kind what = kind::done;
    request_kind request = request_kind::handshake;
    std::string body;
    std::chrono::milliseconds timeout{0};
    std::string channel;
    std::string message;
};

class session {
public:
    session(session_config cfg, std::vector<std::string> channels, std::uint64_t seed = 1);

    // The replay id to resume a channel from: the last one the consumer committed, or -1 (new
    // events only), or -2 (everything retained).
    void set_committed(const std::string& channel, std::int64_t replay_id);
    void resubscribe_from_tip(const std::string& channel);

    void start();
    void stop();

    // What to do next; nullopt while waiting for a report.
    [[nodiscard]] std::optional<action> next();

    // Reports. `status` is the HTTP status; `messages` the parsed body (empty if unreadable).
    void on_reply(request_kind r, unsigned status, const std::vector<message>& messages);
    void on_failure(request_kind r, std::string what); // network error, timeout, bad body
    // The server refused the request itself in a way no retry can fix (HTTP 413, say).
    void abort(std::string why);
    void on_sleep_done();
    void on_token(bool refreshed);
    // The consumer has room for more events (the bounded channel drained).
    void on_room();
    // The consumer is full: the next connect waits for on_room (or the reconnect window).
    void on_full();

    // Events of the last connect reply, in order, for the consumer.
    [[nodiscard]] std::vector<message> take_events();

    [[nodiscard]] const std::string& client_id() const noexcept { return client_id_; }
    [[nodiscard]] bool connected() const noexcept { return state_ == state::connected; }
    [[nodiscard]] std::chrono::milliseconds connect_read_timeout() const noexcept;
    // Milliseconds since an arbitrary epoch; tests set it, the driver feeds the steady clock.
    void set_now(std::int64_t ms) noexcept { now_ms_ = ms; }

private:
    enum class state {
        idle,
        handshaking,
        subscribing,
        connected,
        backing_off,
        refreshing,
        stopping,
        stopped,
        failed
    };
    void handshake();
    void subscribe(const std::vector<std::string>& channels);
    void send_next_subscribe();
    void connect();
    void backoff(std::chrono::milliseconds initial, request_kind then);
    void rehandshake();
    void fail(std::string why);
    void auth_failure(const std::string& why);
    std::string next_id() { return std::to_string(++message_id_); }
    // The reply to a request of ours: the right channel, and our id when the server echoes one.
    const message* reply_to(const std::vector<message>& msgs, std::string_view channel,
                            request_kind r) const;

    session_config cfg_;
    std::vector<std::string> channels_;
    std::map<std::string, std::int64_t> committed_;
    std::mt19937_64 rng_;
    std::deque<action> pending_;
    std::vector<message> events_;
    state state_ = state::idle;
    request_kind after_backoff_ = request_kind::handshake;
    std::string client_id_;
    std::uint64_t message_id_ = 0;
    std::map<request_kind, std::string> sent_id_;      // handshake, connect, disconnect
    std::map<std::string, std::string> subscribe_ids_; // message id -> channel
    std::deque<std::string> subscribe_batches_;        // request bodies not sent yet
    bool subscribe_in_flight_ = false;
    int failures_ = 0;
    int auth_refreshes_ = 0;
    bool busy_ = false; // the last failure was the concurrent-user limit
    bool consumer_full_ = false;
    bool connect_in_flight_ = false;
    bool connect_waiting_for_room_ = false;
    std::chrono::milliseconds advised_timeout_{0};
    std::chrono::milliseconds advised_interval_{0};
    std::int64_t now_ms_ = 0;
    std::int64_t last_connect_reply_ms_ = 0;
};

} // namespace sfbridge::cometd
