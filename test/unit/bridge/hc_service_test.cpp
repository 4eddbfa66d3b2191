// hc_service's answers that need neither Salesforce nor Postgres: the refusals, and an import
// that changes nothing. (test/bridge/hc_api_test.sh runs the rest against sfsim and Postgres.)
#include "bridge/hc_service.hpp"
#include "bridge/run_sync.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace sfbridge;
using namespace sfbridge::bridge;
namespace http = boost::beast::http;
namespace asio = boost::asio;

namespace {

constexpr const char* file_text =
    R"({"version":1,"mappings":[{"object_name":"Contact","config":{"access":"read_write",)"
    R"("fields":{"Id":{},"LastName":{}}}}]})";

struct fixture {
    asio::io_context io;
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("hc_service_" + std::to_string(::getpid()));
    int restarts = 0;
    std::unique_ptr<hc_service> api;
    status_snapshot s;

    explicit fixture(std::string token = "secret") {
        std::ofstream(path) << file_text;
        hc_service_options o;
        o.token = std::move(token);
        o.mappings_path = path.string();
        o.connection.id = hc::name_uuid("x");
        o.connection.schema = "salesforce";
        std::vector<std::string> errors;
        o.connection.file = *mappings::read_mapping_file(file_text, errors);
        api = std::make_unique<hc_service>(
            io.get_executor(), std::move(o), [] { return nullptr; }, [this] { ++restarts; });
        s.starting = false;
    }
    ~fixture() { std::filesystem::remove(path); }

    net::response call(http::verb v, const std::string& target, std::string body = "",
                       const std::string& token = "secret") {
        net::request req{v, target, 11};
        req.set(http::field::host, "127.0.0.1:9090");
        if (!token.empty())
            req.set(http::field::authorization, "Bearer " + token);
        req.body() = std::move(body);
        auto r = run_sync(io, api->handle(req, s));
        io.restart();
        REQUIRE(r);
        return *r;
    }
    std::string import_path() const {
        return "/api/v3/connections/" + hc::name_uuid("x") + "/actions/import";
    }
};

} // namespace

TEST_CASE("hc service: refusals say why") {
    fixture f;
    CHECK(f.call(http::verb::get, "/api/v3/connections", "", "wrong").result() ==
          http::status::unauthorized);
    CHECK(f.call(http::verb::get, "/api/v3/connections/other-id").result() ==
          http::status::not_found);
    CHECK(f.call(http::verb::post, "/api/v3/mappings/no-such/actions/reload").result() ==
          http::status::not_found);
    const auto bad = f.call(http::verb::post, f.import_path(), "not json");
    CHECK(bad.result() == http::status::bad_request);
    CHECK(bad.body().find("not usable") != std::string::npos);
    f.s.starting = true;
    CHECK(f.call(http::verb::post, f.import_path(), file_text).result() ==
          http::status::service_unavailable);
    f.s.starting = false;
    f.api->stop();
    CHECK(f.call(http::verb::post, f.import_path(), file_text).result() ==
          http::status::service_unavailable);
    CHECK(f.restarts == 0);
}

TEST_CASE("hc service: without a token set, the API reads but imports nothing") {
    fixture f("");
    CHECK(f.call(http::verb::get, "/api/v3/connections", "", "").result() == http::status::ok);
    const auto r = f.call(http::verb::post, f.import_path(), file_text, "");
    CHECK(r.result() == http::status::forbidden);
    CHECK(r.body().find("SFBRIDGE_HTTP_TOKEN") != std::string::npos);
}

TEST_CASE("hc service: an import that changes nothing answers 202 and restarts nothing") {
    fixture f;
    const auto r = f.call(http::verb::post, f.import_path(), file_text);
    CHECK(r.result() == http::status::accepted);
    CHECK(r.body().empty());
    CHECK(f.restarts == 0);
    // An import of a file the org would have to check, while the process has no Salesforce
    // client yet: 503, nothing written.
    const std::string changed = std::string(file_text).replace(
        std::string(file_text).find("\"LastName\":{}"), 13, "\"LastName\":{},\"Title\":{}");
    CHECK(f.call(http::verb::post, f.import_path(), changed).result() ==
          http::status::service_unavailable);
    std::ifstream in(f.path);
    std::string now((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(now == file_text);
}
