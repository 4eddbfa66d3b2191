#include "cometd/tail.hpp"

#include "core/json_writer.hpp"

namespace sfbridge::cometd {

std::string tail_line(const stream_item& item) {
    std::string line;
    json::writer w(line);
    w.begin_object().member("channel", item.channel).member("replayId", item.replay_id);
    w.key("data").raw(item.data).end_object();
    return line;
}

boost::asio::awaitable<void> tail(client& c, const tail_output& out) {
    while (auto item = co_await c.next()) {
        switch (item->what) {
        case stream_item::kind::event:
            out.event(tail_line(*item));
            c.set_committed(item->channel, item->replay_id);
            break;
        case stream_item::kind::events_lost:
            out.notice("events lost on " + item->channel + " (" + item->message +
                       "); continuing with new events");
            c.resubscribe_from_tip(item->channel);
            break;
        case stream_item::kind::fatal:
            out.notice(item->message);
            break;
        }
    }
}

} // namespace sfbridge::cometd
