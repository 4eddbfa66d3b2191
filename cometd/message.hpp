#pragma once

#include <boost/system/error_code.hpp>
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Bayeux messages as a server sends them, parsed once with simdjson On-Demand. Meta replies
// keep the fields the session needs; an event keeps its "data" as the server's JSON text (no
// re-serialising) and the replay id read from data.event.replayId.
namespace sfbridge::cometd {

struct advice {
    std::string reconnect; // "retry", "handshake", "none", or "" when absent
    std::optional<std::int64_t> interval;
    std::optional<std::int64_t> timeout;
};

struct message {
    std::string channel;
    std::string id; // the request id, as text (Bayeux allows a string or a number)
    std::string client_id;
    std::optional<bool> successful;
    std::string error; // "403::Unknown client"
    std::optional<advice> server_advice;
    std::string failure_reason; // ext.sfdc.failureReason
    std::string subscription;
    std::optional<bool> replay_supported;  // ext.replay on a handshake reply
    std::string data;                      // an event's data, as JSON text
    std::optional<std::int64_t> replay_id; // data.event.replayId

    [[nodiscard]] bool is_meta() const noexcept { return channel.starts_with("/meta/"); }
    // The 3-digit code at the start of `error` (0 when there is none), as aiocometd reads it.
    [[nodiscard]] int error_code() const noexcept;
};

struct parse_limits {
    std::size_t max_body_bytes = 64 * 1024 * 1024;
    std::size_t max_messages = 100000;
};

enum class parse_errc {
    not_json = 1, // the body is not JSON
    not_an_array, // Bayeux replies are JSON arrays
    bad_message,  // an element is not an object, or a known field has the wrong type
    too_large,    // over the body or message-count limit
};

[[nodiscard]] const boost::system::error_category& parse_category() noexcept;
[[nodiscard]] boost::system::error_code make_error_code(parse_errc e) noexcept;

// Parses a response body. The parser is reused across calls (simdjson's advice); the body must
// have simdjson::SIMDJSON_PADDING bytes of readable slack after body.size() (a padded_string,
// or a std::string padded with simdjson::pad). On error `detail` says where, in our words.
class message_parser {
public:
    boost::system::error_code parse(std::string_view padded_body, std::vector<message>& out,
                                    std::string& detail);
    void set_limits(parse_limits l) noexcept { limits_ = l; }

private:
    boost::system::error_code parse_one(simdjson::ondemand::object obj, const char* buffer_end,
                                        message& m, std::string& detail);
    simdjson::ondemand::parser parser_;
    simdjson::ondemand::parser data_parser_;
    parse_limits limits_;
};

} // namespace sfbridge::cometd

namespace boost::system {
template <>
struct is_error_code_enum<sfbridge::cometd::parse_errc> : std::true_type {};
} // namespace boost::system
