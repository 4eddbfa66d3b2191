#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

// A connection string (libpq URI or key=value) turned into the keyword/value list
// PQconnectStartParams takes, with sfbridge's defaults added where the string says nothing
// (application_name, TCP keepalives), and the host the caller must resolve itself (libpq would
// resolve it with a blocking getaddrinfo() on the I/O thread). Pure.
namespace sfbridge::pg {

struct connect_settings {
    std::vector<std::pair<std::string, std::string>> params; // keyword, value
    std::string host, hostaddr, port = "5432";

    // A single host name (not a socket directory, a list or an IP literal) and no hostaddr:
    // resolve it, then add_hostaddr().
    [[nodiscard]] bool needs_resolve() const;
    void add_hostaddr(std::string address) { params.emplace_back("hostaddr", std::move(address)); }
};

// False with `error` on a string libpq cannot parse. The error quotes nothing from the string
// but an unknown option's name: a password with a stray '%' would otherwise be printed.
bool parse_dsn(std::string_view dsn, connect_settings& out, std::string& error);

// libpq's parse error with anything it quotes from the input replaced by "...".
[[nodiscard]] std::string redact_quoted(std::string_view libpq_message);

} // namespace sfbridge::pg
