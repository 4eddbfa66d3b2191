#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sfbridge::net {

// An absolute http(s) URL, split as a client needs it.
struct url {
    std::string scheme; // "http" or "https", lower case
    std::string host;   // lower case; an IPv6 literal without brackets
    std::uint16_t port = 0;
    std::string target = "/"; // path and query
    [[nodiscard]] bool tls() const noexcept { return scheme == "https"; }
    // "host:port" (brackets around IPv6), for Host headers and CONNECT.
    [[nodiscard]] std::string authority() const;
    // The path without the query.
    [[nodiscard]] std::string_view path() const noexcept;
    [[nodiscard]] std::string origin() const; // scheme://authority
};

// Parses an absolute URL; nullopt (with `error` set) when it is not a usable http(s) URL.
[[nodiscard]] std::optional<url> parse_url(std::string_view text, std::string* error = nullptr);

// A URL as it may be shown in a message or a log: credentials (user:password@) become "***@"
// and a query or fragment "?...", as either may carry a secret. Works on any text, a malformed
// URL too.
[[nodiscard]] std::string redact_url(std::string_view text);

// Resolves a reference (absolute URL or absolute path) against a base.
[[nodiscard]] std::optional<url> resolve(const url& base, std::string_view reference);

} // namespace sfbridge::net
