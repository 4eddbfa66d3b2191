#pragma once

#include "net/url.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::net {

// Cookies as RFC 6265 (section 5) says a user agent keeps them: host-only or domain cookies,
// the default path when Path is missing or not absolute (Salesforce's load balancers send
// cookies without Path, which must still reach /cometd/NN.N), Secure, Max-Age over Expires,
// replacement by (name, domain, path), and deletion by a past expiry. No public-suffix list: a
// Domain attribute must name the request host or one of its parents and contain a dot.
class cookie_jar {
public:
    using clock = std::chrono::system_clock;

    // Stores one Set-Cookie header received in answer to `request`. Returns false when the
    // cookie is rejected (malformed, or a Domain the host may not set).
    bool store(const url& request, std::string_view set_cookie, clock::time_point now);
    // The Cookie header value for a request, or "" when no cookie applies.
    [[nodiscard]] std::string header_for(const url& request, clock::time_point now);
    [[nodiscard]] std::size_t size() const noexcept { return cookies_.size(); }
    void clear() noexcept { cookies_.clear(); }

    // The path a cookie without a usable Path attribute gets (RFC 6265 5.1.4).
    [[nodiscard]] static std::string default_path(std::string_view request_path);
    [[nodiscard]] static bool path_matches(std::string_view request_path,
                                           std::string_view cookie_path);
    [[nodiscard]] static bool domain_matches(std::string_view host, std::string_view domain);
    // Parses an HTTP date (RFC 1123, RFC 850 and asctime forms); nullopt if it is none.
    [[nodiscard]] static std::optional<clock::time_point> parse_http_date(std::string_view s);

private:
    struct cookie {
        std::string name;
        std::string value;
        std::string domain;
        std::string path;
        bool host_only = true;
        bool secure = false;
        std::optional<clock::time_point> expires;
        std::uint64_t created = 0;
    };
    std::vector<cookie> cookies_;
    std::uint64_t sequence_ = 0;
};

} // namespace sfbridge::net
