#include "bridge/hc_api.hpp"

#include "core/calendar.hpp"
#include "core/json_writer.hpp"
#include "core/text.hpp"

#include <boost/beast/http/field.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

namespace sfbridge::bridge::hc {

namespace http = boost::beast::http;

namespace {

std::string percent_decode(std::string_view s, bool query = true) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+' && query) { // a space only in a query string (form encoding)
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() &&
                   std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// The path's segments: "/api/v3/connections/x" -> {"api","v3","connections","x"}; one trailing
// slash is allowed.
std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        const auto end = path.find('/');
        out.push_back(path.substr(0, end));
        path = end == std::string_view::npos ? std::string_view{} : path.substr(end);
    }
    return out;
}

route method_check(route r, http::verb got, http::verb want) {
    if (got == want)
        return r;
    route bad;
    bad.kind = route_kind::method_not_allowed;
    bad.allow = std::string(http::to_string(want));
    return bad;
}

// A mapping's config object, as the mapping file writes it.
std::string config_json(const mappings::mapping& m) {
    mappings::mapping_file one;
    one.mappings.push_back(m);
    std::string error;
    const auto doc = mappings::parse_json(mappings::write_mapping_file(one), error);
    const auto* root = doc ? doc->as_object() : nullptr;
    if (root == nullptr)
        throw std::logic_error("the mapping file writer wrote no object: " + error);
    const auto& config = root->at("mappings").as_array()->at(0).as_object()->at("config");
    return config.dump();
}

const mapping_snapshot* find_snapshot(const status_snapshot& s, std::string_view object) {
    for (const auto& m : s.mappings)
        if (text::iequals(m.object, object))
            return &m;
    return nullptr;
}

std::string resource_name(const connection_info& c) {
    return "sfbridge-" + c.schema;
}

void write_mapping(json::writer& w, const connection_info& c, const status_snapshot& s,
                   const mappings::mapping& m) {
    const std::string id = mapping_id(c, m.object_name);
    const auto* snap = find_snapshot(s, m.object_name);
    const bool rw = m.access == mappings::access_mode::read_write;
    w.begin_object();
    w.member("id", id).member("object_name", m.object_name);
    w.member("state", snap ? mapping_state(*snap) : "INITIAL");
    w.member("access", rw ? "read_write" : "read_only");
    w.member("sf_notify_enabled", m.sf_notify_enabled);
    w.member("sf_polling_seconds", m.sf_polling_seconds);
    w.key("upsert_field");
    if (m.upsert_field)
        w.string(*m.upsert_field);
    else
        w.null();
    w.key("config").raw(config_json(m));
    w.member("detail_url", "/api/v3/mappings/" + id);
    // Writes of the app's rows waiting or being sent now.
    bool writing = false;
    if (rw && s.writes.queue_counted_ms != 0)
        if (const auto it = s.writes.queue.find(m.object_name); it != s.writes.queue.end())
            writing = it->second.fresh + it->second.pending > 0;
    w.member("actively_writing", writing);
    w.end_object();
}

void write_entry(json::writer& w, const connection_info& c, std::string_view app) {
    const std::string detail = c.base_url + "/api/v3/connections/" + c.id;
    w.begin_object();
    w.member("id", c.id).member("resource_name", resource_name(c));
    w.member("app_name", app.empty() ? std::string_view("sfbridge") : app);
    w.member("addon_type", "Sync");
    if (!c.app_id.empty())
        w.member("app_id", c.app_id);
    w.member("region_url", c.base_url).member("detail_url", detail);
    w.end_object();
}

void write_connection(json::writer& w, const connection_info& c, const status_snapshot& s,
                      std::string_view app, bool deep, bool importing) {
    w.begin_object();
    w.member("id", c.id).member("addon_id", c.id);
    w.member("name", resource_name(c)).member("internal_name", resource_name(c));
    w.member("resource_name", resource_name(c));
    w.member("app_name", app.empty() ? std::string_view("sfbridge") : app);
    if (!c.app_id.empty())
        w.member("app_id", c.app_id);
    w.member("schema_name", c.schema).member("db_key", "DATABASE_URL");
    w.member("state", connection_state(s, importing));
    w.member("api_version", c.api_version);
    w.key("features").begin_object().member("poll_db_no_merge", c.ordered_writes).end_object();
    w.member("region_url", c.base_url);
    w.member("detail_url", "/api/v3/connections/" + c.id);
    if (deep) {
        w.key("mappings").begin_array();
        for (const auto& m : c.file.mappings)
            write_mapping(w, c, s, m);
        w.end_array();
    }
    w.end_object();
}

} // namespace

route parse_route(http::verb method, std::string_view target) {
    const auto q = target.find('?');
    const std::string_view path = target.substr(0, q);
    route r;
    if (q != std::string_view::npos) {
        std::string_view query = target.substr(q + 1);
        while (!query.empty()) {
            const auto amp = query.find('&');
            const std::string_view pair = query.substr(0, amp);
            const auto eq = pair.find('=');
            const std::string_view k = pair.substr(0, eq);
            const std::string v =
                eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
            if (k == "app")
                r.app = v;
            else if (k == "deep")
                r.deep = text::iequals(v, "true") || v == "1"; // Python's requests sends True/False
            query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        }
    }
    const auto seg = segments(path);
    const auto n = seg.size();
    if (n == 1 && seg[0] == "connections") {
        r.kind = route_kind::discovery;
        return method_check(r, method, http::verb::get);
    }
    if (n == 2 && seg[0] == "auth") {
        r.kind = route_kind::discovery_auth;
        r.app = percent_decode(seg[1], false);
        return method_check(r, method, http::verb::post);
    }
    if (n < 2 || seg[0] != "api" || seg[1] != "v3")
        return {};
    r.kind = route_kind::not_offered;
    if (n == 3 && seg[2] == "connections") {
        r.kind = route_kind::connection_list;
        return method_check(r, method, http::verb::get);
    }
    if (n >= 4 && (seg[2] == "connections" || seg[2] == "mappings"))
        r.id = std::string(seg[3]);
    if (n == 4 && seg[2] == "connections" && method != http::verb::patch) {
        r.kind = route_kind::connection;
        return method_check(r, method, http::verb::get);
    }
    if (n == 6 && seg[2] == "connections" && seg[4] == "actions" && seg[5] == "import") {
        r.kind = route_kind::import_mappings;
        return method_check(r, method, http::verb::post);
    }
    if (n == 6 && seg[2] == "connections" && seg[4] == "actions" && seg[5] == "export") {
        r.kind = route_kind::export_mappings;
        return method_check(r, method, http::verb::get);
    }
    if (n == 6 && seg[2] == "mappings" && seg[4] == "actions" && seg[5] == "reload") {
        r.kind = route_kind::reload_mapping;
        return method_check(r, method, http::verb::post);
    }
    if (n == 4 && seg[2] == "mappings" && method != http::verb::delete_) {
        r.kind = route_kind::mapping;
        return method_check(r, method, http::verb::get);
    }
    return r;
}

std::string connection_state(const status_snapshot& s, bool importing) {
    if (importing)
        return "IMPORT_CONFIGURATION";
    if (!s.dead_loops.empty())
        return "SYSTEM_ERROR";
    if (s.starting || s.stopping)
        return "BUSY";
    if (s.has_writeback && s.writes.queue_counted_ms != 0)
        for (const auto& [object, q] : s.writes.queue)
            if (q.fresh + q.pending > 0)
                return "POLLING_DB_CHANGES";
    return "IDLE";
}

std::string mapping_state(const mapping_snapshot& m) {
    if (!m.loaded)
        return m.load_attempts > 0 ? "SYSTEM_ERROR" : "INITIAL";
    if (m.reloading)
        return "RELOAD_TABLE";
    return "DATA_SYNCED";
}

bool is_uuid(std::string_view t) {
    if (t.size() != 36)
        return false;
    for (std::size_t i = 0; i < t.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? t[i] != '-' : !std::isxdigit(static_cast<unsigned char>(t[i])))
            return false;
    }
    return true;
}

std::string name_uuid(std::string_view name) {
    // RFC 9562 5.5: SHA-1 of the namespace's 16 bytes and the name; version and variant set.
    static constexpr std::array<unsigned char, 16> url_namespace = {
        0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
        0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    std::string input(url_namespace.begin(), url_namespace.end());
    input.append(name);
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(input.data(), input.size(), md.data(), &len, EVP_sha1(), nullptr) != 1)
        throw std::runtime_error("SHA-1 is not available from OpenSSL");
    md[6] = static_cast<unsigned char>((md[6] & 0x0f) | 0x50);
    md[8] = static_cast<unsigned char>((md[8] & 0x3f) | 0x80);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        out += hex[md[i] >> 4];
        out += hex[md[i] & 0x0f];
    }
    return out;
}

std::string mapping_id(const connection_info& c, std::string_view object_name) {
    return name_uuid("sfbridge:mapping:" + c.id + ":" + text::ascii_lower(object_name));
}

std::string object_of_mapping(const connection_info& c, std::string_view id) {
    for (const auto& m : c.file.mappings)
        if (mapping_id(c, m.object_name) == id)
            return m.object_name;
    return {};
}

std::string base_url(const net::request& req) {
    // Only what a host name, an address and a port are made of: the Host header is echoed into
    // URLs clients follow.
    const auto clean = [](std::string_view v) {
        return !v.empty() && v.size() <= 255 && std::all_of(v.begin(), v.end(), [](char ch) {
            return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' ||
                   ch == ':' || ch == '[' || ch == ']' || ch == '_';
        });
    };
    const std::string_view host = req[http::field::host];
    std::string_view proto = req["X-Forwarded-Proto"];
    proto = proto.substr(0, proto.find(','));
    while (!proto.empty() && proto.back() == ' ')
        proto.remove_suffix(1);
    const std::string scheme = text::iequals(proto, "https") ? "https" : "http";
    return scheme + "://" + (clean(host) ? std::string(host) : std::string("127.0.0.1"));
}

std::string connection_json(const connection_info& c, const status_snapshot& s,
                            std::string_view app, bool deep, bool importing) {
    std::string out;
    json::writer w(out);
    write_connection(w, c, s, app, deep, importing);
    return out;
}

std::string connection_list_json(const connection_info& c, const status_snapshot& s,
                                 std::string_view app, bool deep, bool importing) {
    std::string out;
    json::writer w(out);
    w.begin_object();
    w.member("count", 1);
    w.key("results").begin_array();
    write_connection(w, c, s, app, deep, importing);
    w.end_array();
    w.end_object();
    return out;
}

std::string mapping_json(const connection_info& c, const status_snapshot& s,
                         std::string_view object_name) {
    std::string out;
    json::writer w(out);
    for (const auto& m : c.file.mappings)
        if (m.object_name == object_name)
            write_mapping(w, c, s, m);
    return out;
}

std::string discovery_json(const connection_info& c, std::string_view app, bool auth_answer) {
    std::string out;
    json::writer w(out);
    w.begin_object();
    w.key(auth_answer ? "connections" : "results").begin_array();
    write_entry(w, c, app);
    w.end_array();
    if (!auth_answer) {
        w.member("count", 1);
        w.key("next").null();
        w.key("previous").null();
    }
    w.end_object();
    return out;
}

std::string export_json(const connection_info& c, std::string_view app, std::int64_t now_ms) {
    auto f = c.file;
    mappings::json_value::object connection;
    connection["app_name"] = std::string(app.empty() ? std::string_view("sfbridge") : app);
    connection["name"] = resource_name(c);
    connection["api_version"] = c.api_version;
    connection["exported_at"] = calendar::format_utc(now_ms, 'T', true);
    connection["features"] =
        mappings::json_value::object{{"poll_db_no_merge", mappings::json_value(c.ordered_writes)}};
    f.connection = mappings::json_value(std::move(connection));
    return mappings::write_mapping_file(f);
}

mappings::mapping_file merge_import(const mappings::mapping_file& current,
                                    const mappings::mapping_file& imported) {
    auto out = current;
    for (const auto& m : imported.mappings) {
        const auto it = std::find_if(out.mappings.begin(), out.mappings.end(), [&](const auto& o) {
            return text::iequals(o.object_name, m.object_name);
        });
        if (it != out.mappings.end())
            *it = m;
        else
            out.mappings.push_back(m);
    }
    std::sort(out.mappings.begin(), out.mappings.end(),
              [](const auto& a, const auto& b) { return a.object_name < b.object_name; });
    return out;
}

net::response json_reply(http::status st, std::string body) {
    net::response r{st, 11};
    r.set(http::field::content_type, "application/json");
    r.set(http::field::cache_control, "no-store");
    r.body() = std::move(body);
    r.prepare_payload();
    return r;
}

net::response error_reply(http::status st, std::string_view message) {
    std::string body;
    json::writer w(body);
    w.begin_object().member("message", message).end_object();
    return json_reply(st, std::move(body));
}

} // namespace sfbridge::bridge::hc
