#include "salesforce/bulk_query.hpp"
#include "salesforce/collections.hpp"
#include "salesforce/push_topics.hpp"
#include "salesforce/rest_client.hpp"
#include "test/support/sim_fixture.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

struct pem_pair {
    std::string private_pem, public_pem;
    pem_pair() {
        EVP_PKEY* key = EVP_RSA_gen(2048);
        auto dump = [&](bool priv) {
            BIO* b = BIO_new(BIO_s_mem());
            if (priv)
                PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
            else
                PEM_write_bio_PUBKEY(b, key);
            char* data = nullptr;
            const long n = BIO_get_mem_data(b, &data);
            std::string s(data, static_cast<std::size_t>(n));
            BIO_free(b);
            return s;
        };
        private_pem = dump(true);
        public_pem = dump(false);
        EVP_PKEY_free(key);
    }
};

salesforce::rest_config config_for(sim_fixture& f) {
    salesforce::rest_config c;
    c.auth.login_url = f.sim->base_url();
    c.auth.client_id = f.cfg.auth.client_id;
    c.auth.client_secret = f.cfg.auth.client_secret;
    c.auth.username = f.cfg.auth.username;
    c.auth.password = f.cfg.auth.password;
    c.backoff_initial = std::chrono::milliseconds(5);
    c.backoff_max = std::chrono::milliseconds(50);
    c.max_attempts = 12; // with 30% of requests failing, 12 in a row fail once in 2 million
    return c;
}

asio::awaitable<void> generate(http_client& c, const std::string& object, long count) {
    std::map<std::string, std::string> headers;
    headers["Content-Type"] = "application/json";
    auto r = co_await c.call(http::verb::post, "/__sim/generate",
                             R"({"object":")" + object + R"(","kind":"create","count":)" +
                                 std::to_string(count) + R"(,"rate":0,"bulk":true})",
                             headers);
    REQUIRE(r.status == 202);
    const std::int64_t job = std::int64_t(parse_json(r.body)->root["generator"]);
    for (int i = 0; i < 6000; ++i) {
        auto st = co_await c.call(http::verb::get, "/__sim/generate/" + std::to_string(job));
        auto d = parse_json(st.body);
        if (bool(d->root["finished"])) {
            REQUIRE(std::int64_t(d->root["failed"]) == 0);
            co_return;
        }
        co_await sleep_ms(20);
    }
    FAIL("the generator did not finish");
}

asio::awaitable<void> put_json(http_client& c, const std::string& target, std::string body) {
    std::map<std::string, std::string> headers;
    headers["Content-Type"] = "application/json";
    auto r = co_await c.call(http::verb::put, target, std::move(body), headers);
    REQUIRE(r.status == 200);
}

// Counts records of a query through the client, page by page.
asio::awaitable<std::pair<error_code, std::size_t>>
count_query(salesforce::rest_client& rest, std::string soql, int batch, std::size_t& pages) {
    std::size_t n = 0;
    salesforce::diagnostics diag;
    auto ec = co_await rest.query(
        std::move(soql), false, batch,
        [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
            n += p.records.size();
            ++pages;
            co_return error_code{};
        },
        diag);
    INFO(diag.summary());
    co_return std::make_pair(ec, n);
}
} // namespace

TEST_CASE("the password flow logs in and calls the API", "[salesforce][oauth]") {
    sim_fixture f;
    salesforce::rest_client rest(f.io.get_executor(), config_for(f));
    run(f.io, [&]() -> asio::awaitable<void> {
        salesforce::diagnostics diag;
        auto ec = co_await rest.async_login(diag);
        INFO(diag.summary());
        REQUIRE_FALSE(ec);
        CHECK(rest.instance_url() == f.sim->base_url());
        salesforce::rest_response r;
        ec = co_await rest.async_call(http::verb::get, rest.data_path("/limits"), "", r, diag);
        REQUIRE_FALSE(ec);
        CHECK(r.status == 200);
        REQUIRE(rest.usage().org_usage());
        CHECK(rest.usage().org_usage()->max == f.cfg.api_daily_limit);
        CHECK(rest.usage().org_usage()->used >= 1);
    }());
}

TEST_CASE("a wrong password is refused with Salesforce's words", "[salesforce][oauth]") {
    sim_fixture f;
    auto cfg = config_for(f);
    cfg.auth.password = "wrong";
    salesforce::rest_client rest(f.io.get_executor(), cfg);
    run(f.io, [&]() -> asio::awaitable<void> {
        salesforce::diagnostics diag;
        auto ec = co_await rest.async_login(diag);
        CHECK(ec == salesforce::errc::auth_failed);
        CHECK(diag.error_code == "invalid_grant");
        CHECK(diag.summary().find("authentication failure") != std::string::npos);
        CHECK(diag.summary().find("wrong") == std::string::npos); // no secret in messages
    }());
}

TEST_CASE("the JWT bearer flow signs with the key and a wrong key is refused",
          "[salesforce][oauth]") {
    pem_pair right, wrong;
    sim_fixture f([&](sim::simulator_config& c) { c.auth.jwt_public_key_pem = right.public_pem; });
    run(f.io, [&]() -> asio::awaitable<void> {
        auto cfg = config_for(f);
        cfg.auth.password.clear();
        cfg.auth.client_secret.clear();
        cfg.auth.jwt_key_pem = right.private_pem;
        salesforce::rest_client good(f.io.get_executor(), cfg);
        salesforce::diagnostics diag;
        auto ec = co_await good.async_login(diag);
        INFO(diag.summary());
        CHECK_FALSE(ec);

        cfg.auth.jwt_key_pem = wrong.private_pem;
        salesforce::rest_client bad(f.io.get_executor(), cfg);
        ec = co_await bad.async_login(diag);
        CHECK(ec == salesforce::errc::auth_failed);
        CHECK(diag.error_code == "invalid_grant");

        cfg.auth.jwt_key_pem = "not a key";
        salesforce::rest_client garbage(f.io.get_executor(), cfg);
        ec = co_await garbage.async_login(diag);
        CHECK(ec == salesforce::errc::auth_failed);
        CHECK(diag.client_message.find("PEM private key") != std::string::npos);
    }());
}

TEST_CASE("the refresh token flow logs in", "[salesforce][oauth]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        auto mint = co_await c.call(http::verb::post, "/__sim/oauth/refresh-token");
        auto cfg = config_for(f);
        cfg.auth.password.clear();
        cfg.auth.refresh_token = str(parse_json(mint.body)->root["refresh_token"]);
        salesforce::rest_client rest(f.io.get_executor(), cfg);
        salesforce::diagnostics diag;
        auto ec = co_await rest.async_login(diag);
        INFO(diag.summary());
        CHECK_FALSE(ec);
        cfg.auth.refresh_token = "made-up";
        salesforce::rest_client bad(f.io.get_executor(), cfg);
        ec = co_await bad.async_login(diag);
        CHECK(ec == salesforce::errc::auth_failed);
        CHECK(diag.message == "expired access/refresh token");
    }());
}

TEST_CASE("a 401 mid-run triggers one shared refresh and the requests go on",
          "[salesforce][oauth]") {
    sim_fixture f;
    salesforce::rest_client rest(f.io.get_executor(), config_for(f));
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        salesforce::diagnostics diag;
        auto login_ec = co_await rest.async_login(diag);
        REQUIRE_FALSE(login_ec);
        (void)co_await c.call(http::verb::post, "/__sim/faults/expire-tokens");
        using namespace asio::experimental::awaitable_operators;
        auto one = [&]() -> asio::awaitable<int> {
            salesforce::rest_response r;
            salesforce::diagnostics d;
            auto ec =
                co_await rest.async_call(http::verb::get, rest.data_path("/limits"), "", r, d);
            co_return ec ? 0 : 1;
        };
        auto [a, b, c3, d4] = co_await (one() && one() && one() && one());
        CHECK(a + b + c3 + d4 == 4);
        CHECK(rest.logins() == 2); // the first login, then one refresh for all four
    }());
}

TEST_CASE("query follows nextRecordsUrl through 10000 records", "[salesforce][query]") {
    sim_fixture f;
    salesforce::rest_client rest(f.io.get_executor(), config_for(f));
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await generate(c, "Contact", 10000);
        std::size_t pages = 0;
        auto [ec, n] = co_await count_query(
            rest, "SELECT Id, LastName, SystemModstamp FROM Contact", 2000, pages);
        CHECK_FALSE(ec);
        CHECK(n == 10000);
        CHECK(pages == 5);
        pages = 0;
        auto [ec2, n2] = co_await count_query(rest, "SELECT Id FROM Contact", 500, pages);
        CHECK_FALSE(ec2);
        CHECK(n2 == 10000);
        CHECK(pages == 20);

        // A bad query is an error value with Salesforce's code.
        salesforce::diagnostics diag;
        auto ec3 = co_await rest.query(
            "SELECT Nope FROM Contact", false, 0,
            [](salesforce::query_page&) -> asio::awaitable<error_code> { co_return error_code{}; },
            diag);
        CHECK(ec3 == salesforce::errc::api_error);
        CHECK(diag.error_code == "INVALID_FIELD");
        CHECK(diag.http_status == 400);
    }());
}

TEST_CASE("a Bulk 2.0 query streams 100000 rows page by page", "[salesforce][bulk]") {
    sim_fixture f;
    salesforce::rest_client rest(f.io.get_executor(), config_for(f));
    auto c = f.client();
    run(
        f.io,
        [&]() -> asio::awaitable<void> {
            co_await generate(c, "Contact", 100000);
            salesforce::bulk_query_options o;
            o.max_records_per_page = 25000;
            salesforce::bulk_query_stats stats;
            salesforce::diagnostics diag;
            std::size_t rows = 0, largest_page = 0;
            std::set<std::string> ids;
            auto ec = co_await salesforce::bulk_query(
                rest, "SELECT Id, FirstName, LastName, Email, SystemModstamp FROM Contact", o,
                [&](const std::vector<std::string>& cols,
                    const salesforce::csv_rows& page) -> asio::awaitable<error_code> {
                    CHECK(cols == std::vector<std::string>{"Id", "FirstName", "LastName", "Email",
                                                           "SystemModstamp"});
                    rows += page.size();
                    largest_page = std::max(largest_page, page.size());
                    for (std::size_t r = 0; r < page.size(); ++r)
                        ids.emplace(page.field(r, 0));
                    co_return error_code{};
                },
                stats, diag);
            INFO(diag.summary());
            REQUIRE_FALSE(ec);
            CHECK(rows == 100000);
            CHECK(ids.size() == 100000);
            CHECK(stats.pages == 4);
            CHECK(largest_page <= 25000);
            CHECK_FALSE(stats.job_id.empty());

            auto bad = co_await salesforce::bulk_query(
                rest, "SELECT BillingAddress FROM Account", o,
                [](const std::vector<std::string>&, const salesforce::csv_rows&)
                    -> asio::awaitable<error_code> { co_return error_code{}; },
                stats, diag);
            CHECK(bad);
        }(),
        std::chrono::seconds(300));
}

TEST_CASE("collections report each record's outcome and retry locked rows",
          "[salesforce][collections]") {
    sim_fixture f;
    salesforce::rest_client rest(f.io.get_executor(), config_for(f));
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await put_json(
            c, "/__sim/validation-rules",
            R"([{"object":"Contact","field":"LastName","equals":"Reject me","message":"No."}])");
        std::vector<std::string> records;
        for (int i = 0; i < 450; ++i)
            records.push_back(i % 100 == 7 ? R"({"LastName":"Reject me"})"
                              : i == 8
                                  ? R"({"FirstName":"No last name"})"
                                  : R"({"LastName":"Row )" + std::to_string(i) + R"(","Email":"r)" +
                                        std::to_string(i) + R"(@example.com"})");
        std::vector<salesforce::record_result> results;
        salesforce::diagnostics diag;
        auto ec = co_await salesforce::save_collection(rest, salesforce::collection_op::create,
                                                       "Contact", "", records, results, diag);
        INFO(diag.summary());
        REQUIRE_FALSE(ec);
        REQUIRE(results.size() == 450);
        std::vector<std::string> ids;
        for (std::size_t i = 0; i < results.size(); ++i) {
            INFO(i);
            CHECK(results[i].attempted);
            if (i % 100 == 7) {
                CHECK_FALSE(results[i].success);
                REQUIRE_FALSE(results[i].errors.empty());
                CHECK(results[i].errors[0].status_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION");
            } else if (i == 8) {
                CHECK_FALSE(results[i].success);
                REQUIRE_FALSE(results[i].errors.empty());
                CHECK(results[i].errors[0].status_code == "REQUIRED_FIELD_MISSING");
            } else {
                CHECK(results[i].success);
                CHECK(results[i].id.size() == 18);
                ids.push_back(results[i].id);
            }
        }

        // Updates, with a third of the rows locked at random: every one lands in the end.
        co_await put_json(c, "/__sim/faults", R"({"lockShare":0.3})");
        std::vector<std::string> updates;
        for (const auto& id : ids)
            updates.push_back(R"({"Id":")" + id + R"(","Title":"Updated"})");
        ec = co_await salesforce::save_collection(rest, salesforce::collection_op::update,
                                                  "Contact", "", updates, results, diag,
                                                  salesforce::default_call_options(), 20);
        REQUIRE_FALSE(ec);
        std::size_t ok = 0;
        for (const auto& r : results)
            ok += r.success ? 1 : 0;
        CHECK(ok == ids.size());
        co_await put_json(c, "/__sim/faults", "{}");

        // Upsert by external id: one created, then the same one updated.
        std::vector<std::string> ups{R"({"Name":"Ext","External_Id__c":"X-1"})"};
        ec = co_await salesforce::save_collection(rest, salesforce::collection_op::upsert,
                                                  "Sim_Everything__c", "External_Id__c", ups,
                                                  results, diag);
        REQUIRE_FALSE(ec);
        REQUIRE(results.size() == 1);
        CHECK(results[0].success);
        CHECK(results[0].created == true);
        ec = co_await salesforce::save_collection(rest, salesforce::collection_op::upsert,
                                                  "Sim_Everything__c", "External_Id__c", ups,
                                                  results, diag);
        REQUIRE_FALSE(ec);
        CHECK(results[0].created == false);

        // Delete, with one id that is not a record.
        std::vector<std::string> dels{ids[0], ids[1], "003000000000000AAA"};
        ec = co_await salesforce::save_collection(rest, salesforce::collection_op::remove,
                                                  "Contact", "", dels, results, diag);
        REQUIRE_FALSE(ec);
        REQUIRE(results.size() == 3);
        CHECK(results[0].success);
        CHECK(results[1].success);
        CHECK_FALSE(results[2].success);
    }());
}

TEST_CASE("transient failures are retried and limits back off", "[salesforce][faults]") {
    sim_fixture f;
    salesforce::rest_client rest(f.io.get_executor(), config_for(f));
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        salesforce::diagnostics diag;
        auto login_ec = co_await rest.async_login(diag);
        REQUIRE_FALSE(login_ec);
        co_await put_json(c, "/__sim/faults", R"({"failShare":0.3})");
        for (int i = 0; i < 20; ++i) {
            salesforce::rest_response r;
            auto ec =
                co_await rest.async_call(http::verb::get, rest.data_path("/limits"), "", r, diag);
            INFO(diag.summary());
            CHECK_FALSE(ec);
        }
        CHECK(rest.retries() > 0);

        co_await put_json(c, "/__sim/faults", R"({"unavailable":true})");
        salesforce::rest_response r;
        auto ec = co_await rest.async_call(http::verb::get, rest.data_path("/limits"), "", r, diag);
        CHECK(ec == salesforce::errc::unavailable);
        CHECK(ec == salesforce::condition::retryable);

        co_await put_json(c, "/__sim/faults", R"({"apiDailyLimit":1})");
        ec = co_await rest.async_call(http::verb::get, rest.data_path("/limits"), "", r, diag);
        CHECK(ec == salesforce::errc::request_limit_exceeded);
        CHECK(diag.client_message.find("API request limit is exceeded") != std::string::npos);
        // During the backoff nothing is sent.
        const auto used = rest.usage().total_calls();
        ec = co_await rest.async_call(http::verb::get, rest.data_path("/limits"), "", r, diag);
        CHECK(ec == salesforce::errc::request_limit_exceeded);
        CHECK(rest.usage().total_calls() == used);
    }());
}

TEST_CASE("a mapping's daily budget stops its calls", "[salesforce][faults]") {
    sim_fixture f;
    salesforce::rest_client rest(f.io.get_executor(), config_for(f));
    run(f.io, [&]() -> asio::awaitable<void> {
        rest.usage().set_budget("Contact", 3);
        salesforce::call_options o;
        o.tag = "Contact";
        salesforce::diagnostics diag;
        int ok = 0;
        error_code last;
        for (int i = 0; i < 5; ++i) {
            salesforce::rest_response r;
            last = co_await rest.async_call(http::verb::get, rest.data_path("/limits"), "", r, diag,
                                            o);
            ok += last ? 0 : 1;
        }
        CHECK(ok == 3);
        CHECK(last == salesforce::errc::daily_budget_exhausted);
        CHECK(diag.client_message.find("mapping Contact") != std::string::npos);
        // Other mappings are not affected.
        salesforce::rest_response r;
        auto ec = co_await rest.async_call(http::verb::get, rest.data_path("/limits"), "", r, diag);
        CHECK_FALSE(ec);
    }());
}

TEST_CASE("PushTopic provisioning is idempotent and follows the mappings",
          "[salesforce][pushtopic]") {
    sim_fixture f;
    salesforce::rest_client rest(f.io.get_executor(), config_for(f));
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        // Someone else's topic, which must be left alone.
        salesforce::rest_response r;
        salesforce::diagnostics diag;
        auto ec = co_await rest.async_call(
            http::verb::post, rest.data_path("/sobjects/PushTopic"),
            R"({"Name":"theirs","Query":"SELECT Id, Name FROM Account","ApiVersion":60.0})", r,
            diag);
        REQUIRE_FALSE(ec);

        std::vector<salesforce::topic_spec> specs{{"Contact", {"Id", "LastName", "Email"}},
                                                  {"Account", {"Id", "Name"}}};
        std::vector<salesforce::provisioned_topic> out;
        auto topics = [&]() -> asio::awaitable<std::map<std::string, std::string>> {
            std::map<std::string, std::string> m;
            salesforce::diagnostics d;
            auto e = co_await rest.query(
                "SELECT Name, Query FROM PushTopic", false, 0,
                [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
                    for (auto& rec : p.records)
                        m[rec.get("Name")->raw] = rec.get("Query")->raw;
                    co_return error_code{};
                },
                d);
            REQUIRE_FALSE(e);
            co_return m;
        };
        for (int round = 0; round < 2; ++round) {
            ec = co_await salesforce::ensure_push_topics(rest, specs, out, diag);
            INFO(diag.summary());
            REQUIRE_FALSE(ec);
            REQUIRE(out.size() == 2);
        }
        auto m = co_await topics();
        CHECK(m.size() == 3); // no duplicates after two runs
        CHECK(m["hc_Contact"] == "SELECT Id, LastName, Email FROM Contact");
        CHECK(m["hc_Account"] == "SELECT Id, Name FROM Account");

        // Contact's fields change; Account's mapping is removed.
        specs = {{"Contact", {"Id", "LastName", "Email", "Title"}}};
        ec = co_await salesforce::ensure_push_topics(rest, specs, out, diag);
        REQUIRE_FALSE(ec);
        m = co_await topics();
        CHECK(m.size() == 2);
        CHECK(m["hc_Contact"] == "SELECT Id, LastName, Email, Title FROM Contact");
        CHECK(m.count("theirs") == 1);
        CHECK(m.count("hc_Account") == 0);

        // Too many fields for 1,300 characters: a minimal topic, fetch on notify.
        std::vector<std::string> many{"Id"};
        for (int i = 0; i < 120; ++i)
            many.push_back("A_Rather_Long_Custom_Field_Name_" + std::to_string(i) + "__c");
        specs = {{"Contact", many}};
        ec = co_await salesforce::ensure_push_topics(rest, specs, out, diag);
        REQUIRE_FALSE(ec);
        REQUIRE(out.size() == 1);
        CHECK(out[0].fetch_on_notify);
        m = co_await topics();
        CHECK(m["hc_Contact"] == "SELECT Id, SystemModstamp FROM Contact");
    }());
}

TEST_CASE("at the org's PushTopic limit, a refused create fails alone and removals free slots",
          "[salesforce][pushtopic]") {
    sim_fixture f([](sim::simulator_config& cfg) { cfg.retention.push_topic_limit = 2; });
    salesforce::rest_client rest(f.io.get_executor(), config_for(f));
    run(f.io, [&]() -> asio::awaitable<void> {
        salesforce::diagnostics diag;
        std::vector<salesforce::provisioned_topic> out;
        std::vector<salesforce::topic_spec> specs{{"Account", {"Id", "Name"}},
                                                  {"Lead", {"Id", "Company"}}};
        auto ec = co_await salesforce::ensure_push_topics(rest, specs, out, diag);
        REQUIRE_FALSE(ec);
        // Contact's create is refused (two topics already); Account's and Lead's are kept after
        // it: the refusal must not fail them.
        specs = {{"Contact", {"Id", "LastName"}},
                 {"Account", {"Id", "Name"}},
                 {"Lead", {"Id", "Company"}}};
        ec = co_await salesforce::ensure_push_topics(rest, specs, out, diag);
        INFO(diag.summary());
        REQUIRE_FALSE(ec);
        REQUIRE(out.size() == 3);
        CHECK(out[0].object == "Contact");
        CHECK(out[0].over_limit);
        CHECK_FALSE(out[1].over_limit);
        CHECK_FALSE(out[2].over_limit);
        // Lead's mapping is dropped: its topic is removed before Contact's is created.
        specs = {{"Contact", {"Id", "LastName"}}, {"Account", {"Id", "Name"}}};
        ec = co_await salesforce::ensure_push_topics(rest, specs, out, diag);
        REQUIRE_FALSE(ec);
        REQUIRE(out.size() == 2);
        CHECK_FALSE(out[0].over_limit);
        CHECK_FALSE(out[1].over_limit);
    }());
}
