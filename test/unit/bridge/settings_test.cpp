#include "bridge/settings.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

using sfbridge::bridge::settings;

namespace {
std::string write_config(const std::string& name, const std::string& text) {
    const std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                             "/sfbridge_settings_" + name + "_" + std::to_string(::getpid());
    std::ofstream(path) << text;
    return path;
}
} // namespace

TEST_CASE("the environment wins over the config file, which sets what the environment leaves",
          "[unit][settings]") {
    const auto path = write_config("precedence", "# a comment\n"
                                                 "SFBRIDGE_SCHEMA = from_file\n"
                                                 "SFBRIDGE_LOG_LEVEL='debug'\n"
                                                 "\n"
                                                 "SALESFORCE_API_VERSION=\"59.0\"\n");
    ::setenv("SFBRIDGE_SCHEMA", "from_env", 1);
    ::unsetenv("SFBRIDGE_LOG_LEVEL");
    ::unsetenv("SALESFORCE_API_VERSION");
    settings s;
    s.load_file(path);
    s.load_environment();
    ::unsetenv("SFBRIDGE_SCHEMA");
    std::remove(path.c_str());
    CHECK(s.get("SFBRIDGE_SCHEMA") == "from_env");
    CHECK(s.get("SFBRIDGE_LOG_LEVEL") == "debug");
    CHECK(s.get("SALESFORCE_API_VERSION") == "59.0");
    CHECK(s.get("SFBRIDGE_WRITE_ALGORITHM", "ordered") == "ordered");
}

TEST_CASE("a config file's bad line is named by file and line", "[unit][settings]") {
    const auto unknown = write_config("unknown", "DATABASE_URL=x\nNOT_A_SETTING=1\n");
    settings s;
    CHECK_THROWS_WITH(s.load_file(unknown), unknown + ":2: unknown setting NOT_A_SETTING");
    std::remove(unknown.c_str());
    const auto no_eq = write_config("noeq", "DATABASE_URL\n");
    CHECK_THROWS_WITH(s.load_file(no_eq), no_eq + ":1: expected KEY=VALUE");
    std::remove(no_eq.c_str());
}

TEST_CASE("missing credentials are named, never printed", "[unit][settings]") {
    settings s;
    CHECK_THROWS_WITH(s.database_url(),
                      "DATABASE_URL is not set (the Postgres database to sync into)");
    CHECK_THROWS_WITH(s.salesforce_config(),
                      "SALESFORCE_CLIENT_ID is not set (the connected app's key)");
    s.values["SALESFORCE_CLIENT_ID"] = "id";
    s.values["SALESFORCE_USERNAME"] = "user@example.com";
    CHECK_THROWS_WITH(s.salesforce_config(), Catch::Contains("no Salesforce credentials"));
    s.values["SALESFORCE_PASSWORD"] = "hunter2-secret";
    const auto c = s.salesforce_config();
    CHECK(c.auth.password == "hunter2-secret");
    CHECK(c.auth.login_url == "https://login.salesforce.com");
    CHECK(c.api_version == "60.0");
    CHECK(c.request_timeout == std::chrono::minutes(2));
    s.values["SALESFORCE_REQUEST_TIMEOUT"] = "20";
    CHECK(s.salesforce_config().request_timeout == std::chrono::seconds(20));
    s.values["SALESFORCE_REQUEST_TIMEOUT"] = "0.5";
    CHECK_THROWS_WITH(s.salesforce_config(),
                      "SALESFORCE_REQUEST_TIMEOUT expects seconds from 1 to 3600, not 0.5");
    s.values["SALESFORCE_REQUEST_TIMEOUT"] = "20s";
    CHECK_THROWS_WITH(s.salesforce_config(), Catch::Contains("not 20s"));
}
