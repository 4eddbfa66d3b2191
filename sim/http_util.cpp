#include "sim/http_util.hpp"

#include "core/json_writer.hpp"

#include <ctime>

namespace sfbridge::sim {

std::optional<std::string> url_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0)
                return std::nullopt;
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::map<std::string, std::string> parse_form(std::string_view s) {
    std::map<std::string, std::string> out;
    while (!s.empty()) {
        const std::size_t amp = s.find('&');
        const std::string_view pair = s.substr(0, amp);
        const std::size_t eq = pair.find('=');
        auto k = url_decode(pair.substr(0, eq), true);
        auto v = url_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
        if (k && v && !k->empty())
            out[*k] = *v;
        if (amp == std::string_view::npos)
            break;
        s.remove_prefix(amp + 1);
    }
    return out;
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
    const std::size_t q = target.find('?');
    if (q == std::string_view::npos)
        return {target, {}};
    return {target.substr(0, q), target.substr(q + 1)};
}

std::vector<std::string> path_segments(std::string_view path) {
    std::vector<std::string> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        const std::size_t slash = path.find('/');
        auto seg = url_decode(path.substr(0, slash), false);
        out.push_back(seg ? *seg : std::string(path.substr(0, slash)));
        if (slash == std::string_view::npos)
            break;
        path.remove_prefix(slash);
    }
    return out;
}

response json_response(http::status s, std::string body) {
    response res{s, 11};
    res.set(http::field::content_type, "application/json;charset=UTF-8");
    res.body() = std::move(body);
    return res;
}

response empty_response(http::status s) {
    return response{s, 11};
}

response rest_error(http::status s, std::string_view code, std::string_view message,
                    const std::vector<std::string>& fields) {
    std::string body;
    json::writer w(body);
    w.begin_array().begin_object();
    w.member("message", message).member("errorCode", code);
    if (!fields.empty()) {
        w.key("fields").begin_array();
        for (const auto& f : fields)
            w.string(f);
        w.end_array();
    }
    w.end_object().end_array();
    return json_response(s, std::move(body));
}

response rest_error(http::status s, const sf_error& e) {
    return rest_error(s, e.code, e.message, e.fields);
}

response control_error(http::status s, std::string_view message) {
    std::string body;
    json::writer w(body);
    w.begin_object().member("error", message).end_object();
    return json_response(s, std::move(body));
}

std::string_view bearer_token(const request& req) {
    auto it = req.find(http::field::authorization);
    if (it == req.end())
        return {};
    std::string_view v = it->value();
    for (std::string_view scheme : {"Bearer ", "OAuth "})
        if (v.size() > scheme.size() && v.substr(0, scheme.size()) == scheme)
            return v.substr(scheme.size());
    return {};
}

std::string http_date(std::int64_t epoch_ms) {
    const std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    // strftime's %a and %b follow the locale; the process runs in "C", whose names HTTP uses.
    const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf, n);
}

} // namespace sfbridge::sim
