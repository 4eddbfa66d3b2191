#pragma once

#include "sim/org.hpp"
#include "sim/soql.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// What the Streaming API publishes: PushTopic events on /topic/<Name> and Change Data Capture
// events on /data/ChangeEvents and /data/<Object>ChangeEvent, each channel a log with replay
// ids (increasing, not contiguous) and retention by age and count.
namespace sfbridge::sim {

struct retention_config {
    std::chrono::milliseconds push_topic_age = std::chrono::hours(24);
    std::chrono::milliseconds change_event_age = std::chrono::hours(72);
    std::size_t max_events_per_channel = 200000;
    // What a PushTopic "deleted" event's sobject holds: the select fields (default) or only Id.
    // Unverified in the reference ("at least Id").
    bool deleted_events_id_only = false;
    // The org's PushTopic allocation (40 to 100 by edition): a create past it is refused with
    // LIMIT_EXCEEDED (the error's shape is unverified in the reference).
    std::size_t push_topic_limit = 100;
};

struct stream_event {
    std::int64_t replay_id;
    std::int64_t created_ms;
    std::int64_t commit_ms; // when the change was committed in the org (for latency)
    std::string message;    // the whole Bayeux message: {"channel":..., "data":{...}}
};

class channel_log {
public:
    channel_log(std::string name, std::chrono::milliseconds max_age, std::size_t max_count,
                std::int64_t first_replay_id)
        : name_(std::move(name)), max_age_(max_age), max_count_(max_count),
          floor_(first_replay_id - 1), latest_(first_replay_id - 1) {}

    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    void append(stream_event e);
    // Drops what is past retention at `now_ms`.
    void expire(std::int64_t now_ms);
    // Every retained event is forgotten (the "lose retention" fault).
    void lose_all() {
        events_.clear();
        floor_ = latest_;
    }

    // Salesforce accepts -1 (new events only), -2 (everything retained) or a replay id from
    // which nothing has been lost: at least the last id dropped from retention, at most the
    // latest id issued.
    [[nodiscard]] bool valid_replay(std::int64_t replay_id) const noexcept {
        return replay_id == -1 || replay_id == -2 || (replay_id >= floor_ && replay_id <= latest_);
    }
    // The position to deliver after, for a subscription from `replay_id`.
    [[nodiscard]] std::int64_t start_position(std::int64_t replay_id) const noexcept {
        return replay_id == -1 ? latest_ : (replay_id == -2 ? floor_ : replay_id);
    }
    [[nodiscard]] std::int64_t latest() const noexcept { return latest_; }
    [[nodiscard]] const std::deque<stream_event>& events() const noexcept { return events_; }
    // The first event after `position`, or events().end().
    [[nodiscard]] std::deque<stream_event>::const_iterator after(std::int64_t position) const;

private:
    std::string name_;
    std::chrono::milliseconds max_age_;
    std::size_t max_count_;
    std::deque<stream_event> events_;
    std::int64_t floor_;  // the last replay id no longer retained
    std::int64_t latest_; // the last replay id issued
};

class streaming {
public:
    using event_listener = std::function<void(const channel_log&)>;

    streaming(org& data, retention_config cfg, std::uint64_t seed);

    [[nodiscard]] channel_log* find(std::string_view channel) noexcept;
    // Called after every event appended (the CometD server wakes held connects).
    void set_listener(event_listener l) { listener_ = std::move(l); }
    void lose_retention();
    // Publishes a PushTopic-shaped event whose sobject is the given JSON text, as it is, so
    // tests can send clients what a real org might (odd values, malformed records). Returns
    // the event's replay id.
    std::int64_t inject(const std::string& channel, const std::string& type,
                        std::string_view sobject_json);
    void expire();
    void reset();
    // The CDC channel of an object: /data/AccountChangeEvent, /data/Foo__ChangeEvent.
    [[nodiscard]] static std::string change_event_channel(const object_def& o);
    [[nodiscard]] std::size_t push_topic_count() const noexcept { return topics_.size(); }

private:
    struct topic {
        std::string id;
        std::string name;
        soql::query query;
        std::vector<int> referenced; // select and where fields
        std::string notify_for_fields;
        bool on_create = true, on_update = true, on_delete = true, on_undelete = true;
    };

    void on_change(const change& c);
    void refresh_topic(const record& r);
    bool validate_push_topic(const object_def& pt, const record* existing,
                             const std::vector<field_value>& in, sf_error& err);
    void publish_push_topic(const topic& t, const change& c);
    void publish_change_event(const change& c);
    channel_log& log_for(const std::string& channel, std::chrono::milliseconds age);
    void publish(channel_log& log, stream_event e);

    org& data_;
    retention_config cfg_;
    std::mt19937_64 rng_;
    std::map<std::string, std::unique_ptr<channel_log>, std::less<>> channels_;
    std::unordered_map<std::string, topic> topics_; // by PushTopic id
    event_listener listener_;
    std::map<std::string, int> sequence_in_transaction_;
    std::int64_t next_commit_number_ = 1000000;
};

} // namespace sfbridge::sim
