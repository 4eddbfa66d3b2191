#pragma once

#include "net/http_server.hpp"
#include "sim/org.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::sim {

using net::request;
using net::response;
namespace http = net::http;

// Percent-decoding; '+' becomes a space when `plus_is_space` (form and query encoding).
[[nodiscard]] std::optional<std::string> url_decode(std::string_view s, bool plus_is_space);
// Splits "a=1&b=2" (form bodies and query strings), decoded. Later keys win.
[[nodiscard]] std::map<std::string, std::string> parse_form(std::string_view s);
// The path and the query string of a request target.
[[nodiscard]] std::pair<std::string_view, std::string_view> split_target(std::string_view target);
// The path's segments, decoded ("/a/b%20c/" -> {"a", "b c"}).
[[nodiscard]] std::vector<std::string> path_segments(std::string_view path);

[[nodiscard]] response json_response(http::status s, std::string body);
[[nodiscard]] response empty_response(http::status s);
// REST's error body: a JSON array of {message, errorCode[, fields]}.
[[nodiscard]] response rest_error(http::status s, std::string_view code, std::string_view message,
                                  const std::vector<std::string>& fields = {});
[[nodiscard]] response rest_error(http::status s, const sf_error& e);
// The control API's error body: {"error": message}.
[[nodiscard]] response control_error(http::status s, std::string_view message);

// The token in "Bearer x" or "OAuth x" (both accepted, as Salesforce does); empty otherwise.
[[nodiscard]] std::string_view bearer_token(const request& req);

// An HTTP Date header's value (IMF-fixdate, RFC 9110): "Sun, 06 Nov 1994 08:49:37 GMT".
[[nodiscard]] std::string http_date(std::int64_t epoch_ms);

} // namespace sfbridge::sim
