#pragma once

#include "bridge/mapping_runtime.hpp"
#include "bridge/push_event.hpp"
#include "bridge/sync_context.hpp"
#include "bridge/table_writer.hpp"
#include "cometd/client.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <vector>

// Live changes: one CometD client subscribed to every streamed mapping's channel (resumed from
// the replay ids committed in Postgres), its events read into per-mapping change batches, and
// one transaction per mapping that also stores the replay id; only then is the replay id
// committed to the client.
//
// Flow: the client's bounded queue -> run() drains what is queued (up to max_batch) -> flush()
// per mapping. While a transaction commits, the next events gather in the queue, so batches grow
// with the load and a single event at low load is written at once. When Postgres falls behind,
// the queue fills and the client stops asking for events (back-pressure).
namespace sfbridge::bridge {

class stream_ingest {
public:
    // `writer` is the stream's session (opened by the engine; reopened here when lost).
    stream_ingest(const sync_context& ctx, std::vector<std::unique_ptr<mapping_runtime>>& maps,
                  table_writer& writer);
    stream_ingest(const stream_ingest&) = delete;
    stream_ingest& operator=(const stream_ingest&) = delete;

    // Streams until the stop; a client that ends is started again after a pause.
    boost::asio::awaitable<void> run();
    // Whether the client is subscribed and long-polling (for readiness and metrics).
    [[nodiscard]] bool connected() const noexcept { return client_ && client_->connected(); }

private:
    cometd::client_config client_config() const;
    // One client's life: consume until it stops.
    boost::asio::awaitable<boost::system::error_code> run_client(const cometd::client_config& cc);
    boost::asio::awaitable<void> handle(const cometd::stream_item& item);
    boost::asio::awaitable<void> handle_push_topic(mapping_runtime& m,
                                                   const cometd::stream_item& item);
    boost::asio::awaitable<void> add_record(mapping_runtime& m, const cometd::stream_item& item);
    boost::asio::awaitable<void> handle_change_event(mapping_runtime& m,
                                                     const cometd::stream_item& item);
    boost::asio::awaitable<void> flush_all(bool with_fetches);
    boost::asio::awaitable<boost::system::error_code> flush(mapping_runtime& m);
    // The mappings with a small batch and nothing to fetch, in one transaction (see
    // table_writer::apply_group); true when they committed, false when each must be flushed
    // alone (nothing was written).
    boost::asio::awaitable<bool> flush_group(const std::vector<mapping_runtime*>& group);
    void committed(mapping_runtime& m, std::chrono::steady_clock::time_point started);
    // The batch committed: each change's time by stage into the mapping's histograms.
    static void observe_stages(mapping_runtime& m, std::chrono::steady_clock::time_point started);
    boost::asio::awaitable<void> fetch_notified(mapping_runtime& m);
    boost::asio::awaitable<void>
    fetch_leavers(mapping_runtime& m, const std::vector<std::string>& ids, std::size_t per_query);
    boost::asio::awaitable<void> resume_from_stored();
    mapping_runtime* by_channel(const std::string& channel);

    const sync_context& ctx_;
    std::vector<std::unique_ptr<mapping_runtime>>& maps_;
    table_writer& writer_;
    std::unique_ptr<cometd::client> client_;
    push_event_reader reader_;
    push_event ev_;
    std::size_t in_batch_ = 0;
    bool handled_any_ = false; // an event, from the current client
    // The writer's session was replaced: this client's events are dropped and a new client
    // resumes from the replay ids read back from _sfbridge_state.
    bool resubscribe_ = false;
};

} // namespace sfbridge::bridge
