#include "net/url.hpp"

#include "core/text.hpp"

#include <charconv>

namespace sfbridge::net {
std::string url::authority() const {
    // Appends rather than operator+ chains: GCC 12 warns (-Wrestrict) on the latter at -O2.
    std::string out;
    const bool v6 = host.find(':') != std::string::npos;
    out.append(v6 ? "[" : "").append(host).append(v6 ? "]" : "");
    out.append(":").append(std::to_string(port));
    return out;
}

std::string_view url::path() const noexcept {
    const std::string_view t = target;
    return t.substr(0, t.find('?'));
}

std::string url::origin() const {
    return scheme + "://" + authority();
}

std::string redact_url(std::string_view text) {
    const auto sep = text.find("://");
    const std::size_t start = sep == std::string_view::npos ? 0 : sep + 3;
    const auto tail = text.find_first_of("/?#", start);
    std::string_view authority =
        text.substr(start, tail == std::string_view::npos ? std::string_view::npos : tail - start);
    std::string out(text.substr(0, start));
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        out += "***@";
        authority.remove_prefix(at + 1);
    }
    out += authority;
    if (tail != std::string_view::npos) {
        std::string_view rest = text.substr(tail);
        const auto query = rest.find_first_of("?#");
        out += rest.substr(0, query);
        if (query != std::string_view::npos)
            out += "?...";
    }
    return out;
}

std::optional<url> parse_url(std::string_view text, std::string* error) {
    auto fail = [&](const char* why) -> std::optional<url> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    const auto sep = text.find("://");
    if (sep == std::string_view::npos)
        return fail("not an absolute URL (no scheme)");
    url u;
    u.scheme = text::ascii_lower(text.substr(0, sep));
    if (u.scheme != "http" && u.scheme != "https")
        return fail("the scheme must be http or https");
    std::string_view rest = text.substr(sep + 3);
    const auto path_start = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, path_start);
    std::string_view target =
        path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
    if (authority.find('@') != std::string_view::npos)
        return fail("credentials in URLs are not accepted");
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            return fail("unterminated IPv6 address");
        u.host = text::ascii_lower(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':')
                return fail("junk after the IPv6 address");
            port_text = after.substr(1);
        }
    } else {
        const auto colon = authority.rfind(':');
        u.host = text::ascii_lower(authority.substr(0, colon));
        if (colon != std::string_view::npos)
            port_text = authority.substr(colon + 1);
    }
    if (u.host.empty())
        return fail("no host");
    if (!port_text.empty()) {
        unsigned p = 0;
        const auto [ptr, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
        if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || p == 0 || p > 65535)
            return fail("bad port");
        u.port = static_cast<std::uint16_t>(p);
    } else {
        u.port = u.tls() ? 443 : 80;
    }
    const auto hash = target.find('#');
    target = target.substr(0, hash);
    u.target.clear();
    if (target.empty() || target.front() == '?')
        u.target.push_back('/');
    u.target.append(target);
    return u;
}

std::optional<url> resolve(const url& base, std::string_view reference) {
    if (reference.find("://") != std::string_view::npos)
        return parse_url(reference);
    if (reference.empty() || reference.front() != '/')
        return std::nullopt;
    url u = base;
    u.target = std::string(reference);
    return u;
}

} // namespace sfbridge::net
