#include "pg/dsn.hpp"

#include <boost/asio/ip/address.hpp>
#include <libpq-fe.h>

#include <memory>

namespace sfbridge::pg {

namespace {
struct conninfo_deleter {
    void operator()(PQconninfoOption* o) const noexcept { PQconninfoFree(o); }
};

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    (void)boost::asio::ip::make_address(host, ec);
    return !ec;
}
} // namespace

bool connect_settings::needs_resolve() const {
    return !host.empty() && hostaddr.empty() && host.front() != '/' &&
           host.find(',') == std::string::npos && !is_ip_literal(host);
}

std::string redact_quoted(std::string_view message) {
    std::string out;
    bool quoted = false;
    for (char c : message) {
        if (c == '"') {
            if (!quoted)
                out += "\"...";
            quoted = !quoted;
            if (!quoted)
                out += '"';
            continue;
        }
        if (!quoted && c != '\n')
            out += c;
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

bool parse_dsn(std::string_view dsn, connect_settings& out, std::string& error) {
    const std::string dsn_z(dsn);
    char* parse_error = nullptr;
    std::unique_ptr<PQconninfoOption, conninfo_deleter> options(
        PQconninfoParse(dsn_z.c_str(), &parse_error));
    if (!options) {
        // An unknown option's name is a key, worth showing; anything else libpq quotes may be
        // a fragment of a value (a password with a stray '%').
        const std::string_view text = parse_error ? parse_error : "out of memory";
        const bool names_a_key = text.starts_with("invalid connection option") ||
                                 text.starts_with("invalid URI query parameter");
        error = names_a_key ? std::string(text) : redact_quoted(text);
        while (!error.empty() && (error.back() == '\n' || error.back() == ' '))
            error.pop_back();
        if (parse_error)
            PQfreemem(parse_error);
        return false;
    }
    out = connect_settings{};
    for (PQconninfoOption* o = options.get(); o->keyword; ++o) {
        if (!o->val)
            continue;
        const std::string_view key = o->keyword;
        if (key == "host")
            out.host = o->val;
        else if (key == "hostaddr")
            out.hostaddr = o->val;
        else if (key == "port" && *o->val)
            out.port = o->val;
        out.params.emplace_back(o->keyword, o->val);
    }
    auto set_default = [&](const char* key, const char* value) {
        for (const auto& [k, v] : out.params)
            if (k == key)
                return;
        out.params.emplace_back(key, value);
    };
    set_default("application_name", "sfbridge");
    // TCP keepalives find a dead peer on an idle (LISTENing) session; busy sessions have their
    // operation deadlines.
    set_default("keepalives", "1");
    set_default("keepalives_idle", "15");
    set_default("keepalives_interval", "5");
    set_default("keepalives_count", "3");
    return true;
}

} // namespace sfbridge::pg
