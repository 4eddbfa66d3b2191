#pragma once

// What cometd_server.cpp and cometd_server_meta.cpp share: /meta replies and the state of one
// request's reply. Private to sim/.

#include "sim/cometd_server.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::sim {

// One /meta reply. `id` is the request's id as raw JSON (string or number), echoed as sent.
struct meta {
    std::string_view channel;
    std::string_view id;
    std::string_view client_id;
    bool successful = true;
    std::string error;
    std::string advice; // raw JSON object, or empty
    std::string subscription;
    std::string failure_reason; // ext.sfdc.failureReason
};

[[nodiscard]] std::string write_meta(const meta& m);

inline constexpr std::string_view advice_handshake = R"({"interval":0,"reconnect":"handshake"})";
inline constexpr std::string_view advice_none = R"({"interval":0,"reconnect":"none"})";

struct cometd_server::reply_context {
    std::vector<std::string> replies;
    std::shared_ptr<session> connect_session;
    std::string connect_id;
    bool connect_immediately = false;
    bool connect_first = false;
    std::vector<std::string> set_cookies;
    std::string token;
    std::map<std::string, std::string, std::less<>> cookies;
};

} // namespace sfbridge::sim
