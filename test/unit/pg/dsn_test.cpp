#include "pg/dsn.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using sfbridge::pg::connect_settings;
using sfbridge::pg::parse_dsn;

namespace {
std::string value_of(const connect_settings& s, const std::string& key) {
    auto it = std::find_if(s.params.begin(), s.params.end(),
                           [&](const auto& kv) { return kv.first == key; });
    return it == s.params.end() ? "<none>" : it->second;
}
} // namespace

TEST_CASE("a URI gives libpq's keywords with sfbridge's defaults added", "[unit][pg][dsn]") {
    connect_settings s;
    std::string error;
    REQUIRE(parse_dsn("postgres://app:secret@db.internal:6432/appdb?keepalives_idle=60", s, error));
    CHECK(s.host == "db.internal");
    CHECK(s.port == "6432");
    CHECK(s.needs_resolve());
    CHECK(value_of(s, "dbname") == "appdb");
    CHECK(value_of(s, "user") == "app");
    CHECK(value_of(s, "application_name") == "sfbridge");
    CHECK(value_of(s, "keepalives") == "1");
    CHECK(value_of(s, "keepalives_idle") == "60"); // the string's own value is kept
    CHECK(std::count_if(s.params.begin(), s.params.end(),
                        [](const auto& kv) { return kv.first == "keepalives_idle"; }) == 1);
    s.add_hostaddr("10.0.0.5");
    CHECK(value_of(s, "hostaddr") == "10.0.0.5");
}

TEST_CASE("only a single host name is resolved by the caller", "[unit][pg][dsn]") {
    connect_settings s;
    std::string error;
    REQUIRE(parse_dsn("host=127.0.0.1 dbname=x", s, error));
    CHECK_FALSE(s.needs_resolve());
    CHECK(s.port == "5432");
    REQUIRE(parse_dsn("host=/var/run/postgresql dbname=x", s, error));
    CHECK_FALSE(s.needs_resolve());
    REQUIRE(parse_dsn("host=a,b dbname=x", s, error));
    CHECK_FALSE(s.needs_resolve());
    REQUIRE(parse_dsn("host=db hostaddr=10.1.1.1", s, error));
    CHECK_FALSE(s.needs_resolve());
    REQUIRE(parse_dsn("host=::1", s, error));
    CHECK_FALSE(s.needs_resolve());
    REQUIRE(parse_dsn("dbname=x", s, error));
    CHECK_FALSE(s.needs_resolve());
}

TEST_CASE("a connection string libpq cannot parse is refused without echoing it",
          "[unit][pg][dsn]") {
    connect_settings s;
    std::string error;
    CHECK_FALSE(parse_dsn("postgres://app:pa%zzword@db/app", s, error));
    CHECK_FALSE(error.empty());
    CHECK(error.find("pa%zz") == std::string::npos);
    CHECK(error.find("word") == std::string::npos);
    CHECK_FALSE(parse_dsn("host=db password='s3cr3t", s, error));
    CHECK(error.find("s3cr3t") == std::string::npos);
    CHECK_FALSE(parse_dsn("host=db s3cr3t", s, error));
    CHECK(error.find("s3cr3t") == std::string::npos);
    // An unknown option's name is a key, not a value: it is named.
    CHECK_FALSE(parse_dsn("host=db nonsense_option=1", s, error));
    CHECK(error.find("nonsense_option") != std::string::npos);
    CHECK(sfbridge::pg::redact_quoted("invalid token: \"p%zz\"\n") == "invalid token: \"...\"");
}
