#include "test/support/sim_fixture.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {
asio::awaitable<void> wait_generated(http_client& c, int job) {
    for (int i = 0; i < 3000; ++i) {
        auto st = co_await c.call(http::verb::get, "/__sim/generate/" + std::to_string(job));
        auto d = parse_json(st.body);
        if (bool(d->root["finished"])) {
            CHECK(std::int64_t(d->root["failed"]) == 0);
            co_return;
        }
        co_await sleep_ms(20);
    }
    FAIL("the generator did not finish");
}

// Splits one CSV record (quoted fields, "" for a quote) at `pos`; advances pos past the line.
std::vector<std::string> csv_record(const std::string& s, std::size_t& pos) {
    std::vector<std::string> out;
    std::string field;
    bool quoted = false;
    for (; pos < s.size(); ++pos) {
        const char c = s[pos];
        if (quoted) {
            if (c == '"' && pos + 1 < s.size() && s[pos + 1] == '"') {
                field.push_back('"');
                ++pos;
            } else if (c == '"') {
                quoted = false;
            } else {
                field.push_back(c);
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.push_back(std::move(field));
            field.clear();
        } else if (c == '\n') {
            ++pos;
            break;
        } else {
            field.push_back(c);
        }
    }
    out.push_back(std::move(field));
    return out;
}
} // namespace

TEST_CASE("a Bulk 2.0 query of 100000 records pages through locators", "[sim][bulk]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        (void)co_await c.call(http::verb::post, "/__sim/generate",
                              R"({"object":"Contact","kind":"create","count":100000})");
        co_await wait_generated(c, 1);
        std::map<std::string, std::string> h;
        h["Content-Type"] = "application/json";
        auto created = co_await c.call(
            http::verb::post, f.api("/jobs/query"),
            R"({"operation":"query","query":"SELECT Id, LastName, Email, CreatedDate FROM Contact"})",
            std::move(h));
        REQUIRE(created.status == 200);
        auto job = parse_json(created.body);
        const std::string id = str(job->root["id"]);
        CHECK(id.starts_with("750"));
        CHECK(str(job->root["state"]) == "UploadComplete");
        CHECK(str(job->root["object"]) == "Contact");
        CHECK(str(job->root["contentType"]) == "CSV");

        std::string state;
        int polls = 0;
        while (state != "JobComplete" && polls < 10) {
            auto info = co_await c.call(http::verb::get, f.api("/jobs/query/" + id));
            state = str(parse_json(info.body)->root["state"]);
            ++polls;
        }
        CHECK(polls == 2); // InProgress first, as a real job would be
        CHECK(state == "JobComplete");

        auto wrong_version =
            co_await c.call(http::verb::get, "/services/data/v59.0/jobs/query/" + id + "/results");
        CHECK(wrong_version.status == 409);

        std::set<std::string> ids;
        std::string locator;
        int pages = 0;
        for (;;) {
            std::string target = f.api("/jobs/query/" + id + "/results?maxRecords=30000");
            if (!locator.empty())
                target += "&locator=" + locator;
            auto page = co_await c.call(http::verb::get, target);
            REQUIRE(page.status == 200);
            ++pages;
            std::size_t pos = 0;
            const auto header = csv_record(page.body, pos);
            CHECK(header == std::vector<std::string>{"Id", "LastName", "Email", "CreatedDate"});
            std::size_t rows = 0;
            while (pos < page.body.size()) {
                const auto rec = csv_record(page.body, pos);
                REQUIRE(rec.size() == 4);
                CHECK(rec[0].size() == 18);
                CHECK(rec[3].ends_with("Z"));
                ids.insert(rec[0]);
                ++rows;
            }
            CHECK(page.headers["sforce-numberofrecords"] == std::to_string(rows));
            locator = page.headers["sforce-locator"];
            if (locator == "null")
                break;
        }
        CHECK(pages == 4);
        CHECK(ids.size() == 100000);

        auto deleted = co_await c.call(http::verb::delete_, f.api("/jobs/query/" + id));
        CHECK(deleted.status == 204);
        auto gone = co_await c.call(http::verb::get, f.api("/jobs/query/" + id));
        CHECK(gone.status == 404);
    }());
}

TEST_CASE("Bulk 2.0 refuses what it does not support", "[sim][bulk]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        for (const char* body :
             {R"({"operation":"query","query":"SELECT COUNT() FROM Contact"})",
              R"({"operation":"query","query":"SELECT Id, MailingAddress FROM Contact"})",
              R"({"operation":"insert","query":"SELECT Id FROM Contact"})",
              R"({"operation":"query","query":"SELECT Id FROM Nope__c"})"}) {
            INFO(body);
            auto r = co_await c.call(http::verb::post, f.api("/jobs/query"), body);
            CHECK(r.status == 400);
        }
    }());
}
