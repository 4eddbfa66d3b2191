#include "bridge/settings.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sfbridge::bridge {

const std::vector<std::string>& settings::known_keys() {
    static const std::vector<std::string> keys{"DATABASE_URL",
                                               "SALESFORCE_LOGIN_URL",
                                               "SALESFORCE_CLIENT_ID",
                                               "SALESFORCE_CLIENT_SECRET",
                                               "SALESFORCE_USERNAME",
                                               "SALESFORCE_PASSWORD",
                                               "SALESFORCE_JWT_KEY_FILE",
                                               "SALESFORCE_REFRESH_TOKEN",
                                               "SALESFORCE_API_VERSION",
                                               "SALESFORCE_CA_FILE",
                                               "SALESFORCE_REQUEST_TIMEOUT",
                                               "SFBRIDGE_SCHEMA",
                                               "SFBRIDGE_LOG_FORMAT",
                                               "SFBRIDGE_LOG_LEVEL",
                                               "SFBRIDGE_WRITE_ALGORITHM",
                                               "SFBRIDGE_SHUTDOWN_GRACE",
                                               "SFBRIDGE_RETENTION_DAYS",
                                               "SFBRIDGE_ARCHIVE_AFTER",
                                               "SFBRIDGE_HTTP",
                                               "SFBRIDGE_HTTP_TOKEN",
                                               "SFBRIDGE_HEROKU_CONNECTION_ID",
                                               "SFBRIDGE_HEROKU_APP_ID",
                                               "SFBRIDGE_REPLICA_ID",
                                               "SFBRIDGE_PG_CONNECTIONS",
                                               "SFBRIDGE_LOCK_DATABASE_URL"};
    return keys;
}

namespace {
std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t\r");
    const auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}
} // namespace

void settings::load_file(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read the config file " + path);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        line = trim(line);
        if (line.empty() || line[0] == '#')
            continue;
        const auto eq = line.find('=');
        if (eq == std::string::npos)
            throw std::runtime_error(path + ":" + std::to_string(n) + ": expected KEY=VALUE");
        std::string key = trim(line.substr(0, eq));
        std::string value = trim(line.substr(eq + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        bool known = false;
        for (const auto& k : known_keys())
            known = known || k == key;
        if (!known)
            throw std::runtime_error(path + ":" + std::to_string(n) + ": unknown setting " + key);
        values[key] = value;
    }
}

void settings::load_environment() {
    for (const auto& k : known_keys())
        if (const char* v = std::getenv(k.c_str()); v && *v)
            values[k] = v;
}

std::string settings::get(const std::string& key, const std::string& fallback) const {
    auto it = values.find(key);
    return it == values.end() || it->second.empty() ? fallback : it->second;
}

std::string settings::database_url() const {
    auto v = get("DATABASE_URL");
    if (v.empty())
        throw std::runtime_error("DATABASE_URL is not set (the Postgres database to sync into)");
    return v;
}

salesforce::rest_config settings::salesforce_config() const {
    salesforce::rest_config c;
    c.auth.login_url = get("SALESFORCE_LOGIN_URL", "https://login.salesforce.com");
    c.auth.client_id = get("SALESFORCE_CLIENT_ID");
    c.auth.client_secret = get("SALESFORCE_CLIENT_SECRET");
    c.auth.username = get("SALESFORCE_USERNAME");
    c.auth.password = get("SALESFORCE_PASSWORD");
    c.auth.refresh_token = get("SALESFORCE_REFRESH_TOKEN");
    c.api_version = get("SALESFORCE_API_VERSION", "60.0");
    c.http.ca_file = get("SALESFORCE_CA_FILE");
    // How long a call may wait for its answer. Writes go one call at a time, so a hung call
    // holds the write-back this long (then its outcome is unknown and looked for).
    if (const auto t = get("SALESFORCE_REQUEST_TIMEOUT"); !t.empty()) {
        char* end = nullptr;
        const double seconds = std::strtod(t.c_str(), &end);
        if (end == t.c_str() || *end != '\0' || !(seconds >= 1 && seconds <= 3600))
            throw std::runtime_error(
                "SALESFORCE_REQUEST_TIMEOUT expects seconds from 1 to 3600, not " + t);
        c.request_timeout = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
    }
    if (const auto key_file = get("SALESFORCE_JWT_KEY_FILE"); !key_file.empty()) {
        std::ifstream in(key_file);
        if (!in)
            throw std::runtime_error("cannot read SALESFORCE_JWT_KEY_FILE " + key_file);
        std::stringstream ss;
        ss << in.rdbuf();
        c.auth.jwt_key_pem = ss.str();
    }
    if (c.auth.client_id.empty())
        throw std::runtime_error("SALESFORCE_CLIENT_ID is not set (the connected app's key)");
    if (c.auth.jwt_key_pem.empty() && c.auth.refresh_token.empty() &&
        (c.auth.username.empty() || c.auth.password.empty()))
        throw std::runtime_error("no Salesforce credentials: set SALESFORCE_USERNAME with "
                                 "SALESFORCE_PASSWORD or SALESFORCE_JWT_KEY_FILE");
    if (!c.auth.jwt_key_pem.empty() && c.auth.username.empty())
        throw std::runtime_error("SALESFORCE_JWT_KEY_FILE needs SALESFORCE_USERNAME");
    return c;
}

} // namespace sfbridge::bridge
