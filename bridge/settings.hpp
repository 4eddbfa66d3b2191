#pragma once

#include "salesforce/rest_client.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

// sfbridge's settings, as a container sidecar expects them: environment variables
// (DATABASE_URL, SALESFORCE_*), which a KEY=VALUE config file may also set (the environment
// wins). Secrets are read here and never printed.
namespace sfbridge::bridge {

struct settings {
    std::map<std::string, std::string> values;

    // Reads a config file of KEY=VALUE lines (# comments). Throws std::runtime_error naming
    // the file and line on a bad line or an unreadable file.
    void load_file(const std::string& path);
    // The environment overrides the file for every known key.
    void load_environment();
    [[nodiscard]] std::string get(const std::string& key, const std::string& fallback = {}) const;

    // The Salesforce side of engine_config; throws std::runtime_error on what is missing.
    [[nodiscard]] salesforce::rest_config salesforce_config() const;
    [[nodiscard]] std::string database_url() const;

    static const std::vector<std::string>& known_keys();
};

} // namespace sfbridge::bridge
