#include "sim/http_util.hpp"
#include "sim/values.hpp"
#include "test/support/bayeux_driver.hpp"

#include <chrono>

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

TEST_CASE("stats count records and reset empties the org", "[sim][control]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        auto made = co_await c.call(http::verb::post, "/__sim/records/Account",
                                    R"([{"Name":"a"},{"Name":"b"},{"Nope":1}])");
        auto m = parse_json(made.body);
        CHECK(bool(m->root.at(0)["success"]));
        CHECK_FALSE(bool(m->root.at(2)["success"]));
        CHECK_THAT(str(m->root.at(2)["error"]), Catch::StartsWith("INVALID_FIELD"));
        const std::string id = str(m->root.at(0)["id"]);
        (void)co_await c.call(http::verb::delete_, "/__sim/records/Account?ids=" + id);
        auto stats = co_await c.call(http::verb::get, "/__sim/stats");
        auto s = parse_json(stats.body);
        CHECK(std::int64_t(s->root["records"]["Account"]["live"]) == 1);
        CHECK(std::int64_t(s->root["records"]["Account"]["deleted"]) == 1);
        CHECK(std::int64_t(s->root["apiUsage"]) == 0); // the control API is not counted

        auto reset = co_await c.call(http::verb::post, "/__sim/reset");
        CHECK(reset.status == 200);
        auto after = co_await c.call(http::verb::get, "/__sim/stats");
        CHECK(parse_json(after.body)->root["records"].get_object().size() == 0);
        auto unknown = co_await c.call(http::verb::get, "/__sim/nothing");
        CHECK(unknown.status == 404);
    }());
}

TEST_CASE("the generator keeps the asked rate", "[sim][control]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        const auto start = std::chrono::steady_clock::now();
        auto gen = co_await c.call(http::verb::post, "/__sim/generate",
                                   R"({"object":"Account","kind":"mixed","count":100,"rate":200})");
        REQUIRE(gen.status == 202);
        const std::string job =
            std::to_string(std::int64_t(parse_json(gen.body)->root["generator"]));
        bool finished = false;
        while (!finished) {
            co_await sleep_ms(20);
            auto st = co_await c.call(http::verb::get, "/__sim/generate/" + job);
            auto d = parse_json(st.body);
            finished = bool(d->root["finished"]);
            CHECK(std::int64_t(d->root["failed"]) == 0);
        }
        // 100 changes at 200/s take half a second, give or take the machine.
        const auto took = std::chrono::steady_clock::now() - start;
        CHECK(took >= std::chrono::milliseconds(450));
        CHECK(took < std::chrono::seconds(5));
        auto bad = co_await c.call(http::verb::post, "/__sim/generate", R"({"kind":"explode"})");
        CHECK(bad.status == 400);
    }());
}

TEST_CASE("the generator writes each change's time in microseconds into a stamp field",
          "[sim][control]") {
    sim_fixture f;
    auto c = f.client();
    const auto now_us = [] {
        return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    };
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        const std::int64_t before = now_us();
        auto gen = co_await c.call(
            http::verb::post, "/__sim/generate",
            R"({"object":"Contact","kind":"mixed","count":200,"stamp_field":"AssistantName"})");
        REQUIRE(gen.status == 202);
        const std::string job =
            std::to_string(std::int64_t(parse_json(gen.body)->root["generator"]));
        for (bool finished = false; !finished;) {
            co_await sleep_ms(10);
            auto st = co_await c.call(http::verb::get, "/__sim/generate/" + job);
            finished = bool(parse_json(st.body)->root["finished"]);
        }
        const std::int64_t after = now_us();
        auto q = co_await c.call(
            http::verb::get, f.api("/query?q=SELECT+AssistantName,SystemModstamp+FROM+Contact"));
        REQUIRE(q.status == 200);
        auto d = parse_json(q.body);
        std::size_t records = 0;
        for (auto r : d->root["records"].get_array()) {
            ++records;
            const std::string stamp = str(r["AssistantName"]);
            REQUIRE(stamp.size() == 16);
            const std::int64_t us = std::stoll(stamp);
            CHECK(us >= before);
            CHECK(us <= after);
            // Taken just before the save, so never after the record's SystemModstamp.
            std::int64_t modstamp_ms = 0;
            REQUIRE(sim::parse_datetime(str(r["SystemModstamp"]), modstamp_ms));
            CHECK(us / 1000 <= modstamp_ms);
        }
        CHECK(records >= 20); // of 200 changes about 60 are creates and 20 deletes
        // Only a writable text field with room for the digits will do; the error names it.
        for (const char* bad : {"Email", "Nope", "Birthdate"}) {
            auto refused = co_await c.call(http::verb::post, "/__sim/generate",
                                           std::string(R"({"object":"Contact","stamp_field":")") +
                                               bad + "\"}");
            CHECK(refused.status == 400);
            CHECK_THAT(refused.body, Catch::Contains(bad));
        }
    }());
}

TEST_CASE("retention by age forgets old events", "[sim][streaming]") {
    sim_fixture f([](sim::simulator_config& c) {
        c.retention.push_topic_age = std::chrono::milliseconds(100);
        c.retention.change_event_age = std::chrono::milliseconds(100);
        c.cometd.connect_timeout = std::chrono::milliseconds(300);
        c.cometd.session_timeout = std::chrono::milliseconds(400); // the sweep runs every 100 ms
    });
    bayeux_driver b(f);
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(b.control);
        (void)co_await b.handshake();
        (void)co_await b.subscribe("/data/AccountChangeEvent", -1);
        (void)co_await b.connect();
        (void)co_await b.control.call(http::verb::post, f.api("/sobjects/Account"),
                                      R"({"Name":"old"})", bayeux_driver::json_type());
        auto reply = co_await b.connect();
        const std::int64_t old_id =
            bayeux_driver::events(*reply).at(0)["data"]["event"]["replayId"];
        (void)co_await b.control.call(http::verb::post, f.api("/sobjects/Account"),
                                      R"({"Name":"new"})", bayeux_driver::json_type());
        co_await sleep_ms(400);
        bayeux_driver later(f);
        later.control.token = b.control.token;
        later.control.cookies = b.control.cookies;
        (void)co_await later.handshake();
        auto refused = co_await later.subscribe("/data/AccountChangeEvent", old_id - 1);
        CHECK_FALSE(bool(refused->root.at(0)["successful"]));
    }());
}

TEST_CASE("the unverified behaviours are settings", "[sim][streaming]") {
    sim_fixture f([](sim::simulator_config& c) {
        c.cometd.failure_http_status = 400;
        c.retention.deleted_events_id_only = true;
        c.cometd.connect_timeout = std::chrono::milliseconds(300);
    });
    bayeux_driver b(f);
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(b.control);
        auto unknown = co_await b.post(
            b.control,
            R"([{"channel":"/meta/connect","clientId":"nobody","connectionType":"long-polling"}])");
        CHECK(unknown.status == 400);
        (void)co_await b.control.call(
            http::verb::post, f.api("/sobjects/PushTopic"),
            R"({"Name":"del","Query":"SELECT Id, Name FROM Account","ApiVersion":60.0})",
            bayeux_driver::json_type());
        (void)co_await b.handshake();
        (void)co_await b.subscribe("/topic/del", -1);
        (void)co_await b.connect();
        auto made = co_await b.control.call(http::verb::post, f.api("/sobjects/Account"),
                                            R"({"Name":"x"})", bayeux_driver::json_type());
        const std::string id = str(parse_json(made.body)->root["id"]);
        (void)co_await b.control.call(http::verb::delete_, f.api("/sobjects/Account/" + id));
        auto reply = co_await b.connect();
        auto events = bayeux_driver::events(*reply);
        REQUIRE(events.size() == 2);
        CHECK(events[0]["data"]["sobject"].get_object().size() == 2);
        CHECK(events[1]["data"]["sobject"].get_object().size() == 1); // deleted: Id only
    }());
}

TEST_CASE("the org's clock runs at the offset set, stamps and Date header alike",
          "[sim][control]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        auto set = co_await c.call(http::verb::put, "/__sim/clock", R"({"offsetMs":-300000})");
        CHECK(set.status == 200);
        auto bad = co_await c.call(http::verb::put, "/__sim/clock", R"({"offset":1})");
        CHECK(bad.status == 400);
        auto made =
            co_await c.call(http::verb::post, "/__sim/records/Account", R"([{"Name":"a"}])");
        const std::string id = str(parse_json(made.body)->root.at(0)["id"]);
        auto rec = co_await c.call(http::verb::get, f.api("/sobjects/Account/" + id));
        std::int64_t stamp = 0;
        REQUIRE(sim::parse_datetime(str(parse_json(rec.body)->root["SystemModstamp"]), stamp));
        const std::int64_t local = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
        CHECK(local - stamp > 290000);
        CHECK(local - stamp < 310000);
        // The Date header every answer carries shows the same clock (whole seconds, GMT).
        REQUIRE(rec.headers.count("date") == 1);
        CHECK_THAT(rec.headers["date"], Catch::EndsWith(" GMT"));
        const bool same_second = rec.headers["date"] == sim::http_date(stamp) ||
                                 rec.headers["date"] == sim::http_date(stamp + 1000);
        CHECK(same_second);
    }());
}

TEST_CASE("the CDC selection is what the Tooling API lists and what raises change events",
          "[sim][control][streaming]") {
    sim_fixture f;
    bayeux_driver b(f);
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(b.control);
        const std::string members =
            f.api("/tooling/query?q=SELECT+SelectedEntity+FROM+PlatformEventChannelMember");
        auto all = co_await b.control.call(http::verb::get, members);
        REQUIRE(all.status == 200);
        CHECK(all.body.find(R"("SelectedEntity":"AccountChangeEvent")") != std::string::npos);
        auto set =
            co_await b.control.call(http::verb::put, "/__sim/cdc", R"({"selected":["Contact"]})");
        CHECK(set.status == 200);
        auto some = co_await b.control.call(http::verb::get, members);
        CHECK(some.body.find(R"("SelectedEntity":"ContactChangeEvent")") != std::string::npos);
        CHECK(some.body.find("AccountChangeEvent") == std::string::npos);
        auto other = co_await b.control.call(http::verb::get,
                                             f.api("/tooling/query?q=SELECT+Id+FROM+ApexClass"));
        CHECK(other.status == 400);

        (void)co_await b.handshake();
        (void)co_await b.subscribe("/data/ChangeEvents", -1);
        (void)co_await b.connect();
        (void)co_await b.control.call(http::verb::post, f.api("/sobjects/Account"),
                                      R"({"Name":"not selected"})", bayeux_driver::json_type());
        (void)co_await b.control.call(http::verb::post, f.api("/sobjects/Contact"),
                                      R"({"LastName":"selected"})", bayeux_driver::json_type());
        auto reply = co_await b.connect();
        const auto events = bayeux_driver::events(*reply);
        REQUIRE(events.size() == 1); // the Contact's only: Account raises none
        CHECK(str(events.at(0)["data"]["payload"]["ChangeEventHeader"]["entityName"]) == "Contact");
    }());
}

TEST_CASE("the org's limits are settable, the daily API requests enforced", "[sim][control]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        auto set = co_await c.call(
            http::verb::put, "/__sim/limits",
            R"({"DailyApiRequests":{"Max":100,"Remaining":2},"DailyStreamingApiEvents":{"Max":10,"Remaining":0}})");
        CHECK(set.status == 200);
        auto bad = co_await c.call(http::verb::put, "/__sim/limits",
                                   R"({"DailyApiRequests":{"Max":1,"Remaining":2}})");
        CHECK(bad.status == 400);
        auto limits = co_await c.call(http::verb::get, f.api("/limits"));
        REQUIRE(limits.status == 200);
        auto l = parse_json(limits.body);
        CHECK(std::int64_t(l->root["DailyApiRequests"]["Max"]) == 100);
        CHECK(std::int64_t(l->root["DailyApiRequests"]["Remaining"]) <= 2);
        CHECK(std::int64_t(l->root["DailyStreamingApiEvents"]["Remaining"]) == 0);
        (void)co_await c.call(http::verb::get, f.api("/limits"));
        auto refused = co_await c.call(http::verb::get, f.api("/limits"));
        CHECK(refused.status == 403);
        CHECK(refused.body.find("REQUEST_LIMIT_EXCEEDED") != std::string::npos);
    }());
}
