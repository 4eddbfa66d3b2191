#pragma once

#include "cometd/client.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <string_view>

// The tail loop `cometd-tail` and `sfbridge tail` share: every event of the client's channels
// written as one JSON line, its replay id committed once written (a reconnect resumes after the
// last one shown), events lost past retention followed by a resubscription from the tip.
namespace sfbridge::cometd {

// {"channel":"...","replayId":N,"data":{...}}: the event as the server sent it.
[[nodiscard]] std::string tail_line(const stream_item& item);

struct tail_output {
    std::function<void(std::string_view line)> event;     // tail_line, no newline
    std::function<void(std::string_view message)> notice; // events lost, a fatal error
};

// Runs until the client has stopped and its queue is drained. Start client.run() beside it.
boost::asio::awaitable<void> tail(client& c, const tail_output& out);

} // namespace sfbridge::cometd
