#include "net/cookie_jar.hpp"

#include "core/text.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>

namespace sfbridge::net {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool is_ip(std::string_view host) {
    boost::system::error_code ec;
    (void)boost::asio::ip::make_address(std::string(host), ec);
    return !ec;
}

} // namespace

std::string cookie_jar::default_path(std::string_view p) {
    if (p.empty() || p.front() != '/')
        return "/";
    const auto last = p.rfind('/');
    if (last == 0)
        return "/";
    return std::string(p.substr(0, last));
}

bool cookie_jar::path_matches(std::string_view request_path, std::string_view cookie_path) {
    if (request_path == cookie_path)
        return true;
    if (request_path.substr(0, cookie_path.size()) != cookie_path)
        return false;
    return cookie_path.back() == '/' || request_path[cookie_path.size()] == '/';
}

bool cookie_jar::domain_matches(std::string_view host, std::string_view domain) {
    if (host == domain)
        return true;
    return host.size() > domain.size() && host.ends_with(domain) &&
           host[host.size() - domain.size() - 1] == '.' && !is_ip(host);
}

std::optional<cookie_jar::clock::time_point> cookie_jar::parse_http_date(std::string_view s) {
    // RFC 6265 5.1.1 asks for a tolerant parse: find a time, a day, a month and a year among
    // the tokens, whatever their order.
    static constexpr std::string_view months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                  "jul", "aug", "sep", "oct", "nov", "dec"};
    int hour = -1, minute = 0, second = 0, day = -1, month = -1, year = -1;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && !std::isalnum(static_cast<unsigned char>(s[i])) && s[i] != ':')
            ++i;
        std::size_t j = i;
        while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == ':'))
            ++j;
        const std::string_view tok = s.substr(i, j - i);
        i = j;
        if (tok.empty())
            continue;
        if (hour < 0 && tok.find(':') != std::string_view::npos) {
            int h = 0, m = 0, sec = 0;
            if (std::sscanf(std::string(tok).c_str(), "%d:%d:%d", &h, &m, &sec) == 3) {
                hour = h;
                minute = m;
                second = sec;
                continue;
            }
        }
        if (std::isdigit(static_cast<unsigned char>(tok[0]))) {
            int v = 0;
            std::from_chars(tok.data(), tok.data() + tok.size(), v);
            if (day < 0 && tok.size() <= 2)
                day = v;
            else if (year < 0 && (tok.size() == 2 || tok.size() == 4))
                year = tok.size() == 2 ? (v < 70 ? 2000 + v : 1900 + v) : v;
            continue;
        }
        if (month < 0 && tok.size() >= 3) {
            const std::string m = text::ascii_lower(tok.substr(0, 3));
            for (int k = 0; k < 12; ++k)
                if (months[k] == m)
                    month = k;
        }
    }
    if (hour < 0 || day < 1 || day > 31 || month < 0 || year < 1601 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 59)
        return std::nullopt;
    // The clock counts nanoseconds from 1970: it holds 1677 to 2262, and a date outside
    // overflowed it (found by fuzzing). A later date is as good as never for a cookie, an
    // earlier one as long gone.
    year = std::clamp(year, 1700, 2200);
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return clock::from_time_t(timegm(&tm));
}

bool cookie_jar::store(const url& request, std::string_view header, clock::time_point now) {
    cookie c;
    const auto semi = header.find(';');
    const std::string_view pair = header.substr(0, semi);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos)
        return false;
    c.name = std::string(trim(pair.substr(0, eq)));
    c.value = std::string(trim(pair.substr(eq + 1)));
    if (c.name.empty())
        return false;
    std::optional<clock::time_point> max_age_expiry, expires;
    std::string domain_attr, path_attr;
    std::string_view attrs = semi == std::string_view::npos ? "" : header.substr(semi + 1);
    while (!attrs.empty()) {
        const auto next = attrs.find(';');
        const std::string_view av = attrs.substr(0, next);
        attrs = next == std::string_view::npos ? "" : attrs.substr(next + 1);
        const auto aeq = av.find('=');
        const std::string name = text::ascii_lower(trim(av.substr(0, aeq)));
        const std::string_view value =
            aeq == std::string_view::npos ? "" : trim(av.substr(aeq + 1));
        if (name == "expires") {
            expires = parse_http_date(value);
        } else if (name == "max-age") {
            long long seconds = 0;
            const auto [p, ec] =
                std::from_chars(value.data(), value.data() + value.size(), seconds);
            if (ec == std::errc{} && p == value.data() + value.size())
                max_age_expiry =
                    seconds <= 0
                        ? clock::time_point::min()
                        : now + std::chrono::seconds(std::min(seconds, 100LL * 365 * 86400));
        } else if (name == "domain") {
            std::string_view d = value;
            if (!d.empty() && d.front() == '.')
                d.remove_prefix(1);
            domain_attr = text::ascii_lower(d);
        } else if (name == "path") {
            path_attr = std::string(value);
        } else if (name == "secure") {
            c.secure = true;
        }
    }
    c.expires = max_age_expiry ? max_age_expiry : expires;
    if (!domain_attr.empty()) {
        if (!domain_matches(request.host, domain_attr) ||
            (domain_attr.find('.') == std::string::npos && domain_attr != request.host))
            return false;
        c.domain = domain_attr;
        c.host_only = false;
    } else {
        c.domain = request.host;
        c.host_only = true;
    }
    c.path =
        !path_attr.empty() && path_attr.front() == '/' ? path_attr : default_path(request.path());
    auto same = std::find_if(cookies_.begin(), cookies_.end(), [&](const cookie& o) {
        return o.name == c.name && o.domain == c.domain && o.path == c.path;
    });
    c.created = same != cookies_.end() ? same->created : ++sequence_;
    if (same != cookies_.end())
        cookies_.erase(same);
    if (c.expires && *c.expires <= now)
        return true; // an expiry in the past deletes the cookie
    cookies_.push_back(std::move(c));
    return true;
}

std::string cookie_jar::header_for(const url& request, clock::time_point now) {
    cookies_.erase(std::remove_if(cookies_.begin(), cookies_.end(),
                                  [&](const cookie& c) { return c.expires && *c.expires <= now; }),
                   cookies_.end());
    std::vector<const cookie*> chosen;
    const std::string_view path = request.path();
    for (const auto& c : cookies_) {
        const bool domain_ok =
            c.host_only ? request.host == c.domain : domain_matches(request.host, c.domain);
        if (domain_ok && path_matches(path, c.path) && (!c.secure || request.tls()))
            chosen.push_back(&c);
    }
    // Longer paths first, then older cookies first (RFC 6265 5.4 step 2).
    std::stable_sort(chosen.begin(), chosen.end(), [](const cookie* a, const cookie* b) {
        if (a->path.size() != b->path.size())
            return a->path.size() > b->path.size();
        return a->created < b->created;
    });
    std::string out;
    for (const cookie* c : chosen)
        out += (out.empty() ? "" : "; ") + c->name + "=" + c->value;
    return out;
}

} // namespace sfbridge::net
