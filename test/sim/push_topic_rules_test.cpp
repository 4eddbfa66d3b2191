#include "test/support/bayeux_driver.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {

struct topic_case {
    std::string notify_for_fields;
    std::string query;
    std::string extra; // more PushTopic fields, JSON members with a leading comma
};

// Subscribes to a fresh topic, runs `changes`, and returns the event types received, in order.
// The fixtures hold connects briefly, so "no event" is seen quickly.
asio::awaitable<std::vector<std::string>>
events_for(sim_fixture& f, const topic_case& t,
           std::function<asio::awaitable<void>(http_client&)> changes) {
    bayeux_driver b(f);
    co_await f.login(b.control);
    static int n = 0;
    const std::string name = "rules_" + std::to_string(++n);
    auto created = co_await b.control.call(http::verb::post, f.api("/sobjects/PushTopic"),
                                           R"({"Name":")" + name + R"(","Query":")" + t.query +
                                               R"(","ApiVersion":60.0,"NotifyForFields":")" +
                                               t.notify_for_fields + "\"" + t.extra + "}",
                                           bayeux_driver::json_type());
    INFO(created.body);
    REQUIRE(created.status == 201);
    (void)co_await b.handshake();
    (void)co_await b.subscribe("/topic/" + name, -1);
    (void)co_await b.connect();
    co_await changes(b.control);
    // Every event of the script is published before this connect, which therefore answers at
    // once with all of them (or, with none, after the short hold).
    std::vector<std::string> types;
    auto reply = co_await b.connect();
    for (auto e : bayeux_driver::events(*reply))
        types.push_back(str(e["data"]["event"]["type"]));
    co_return types;
}

asio::awaitable<std::string> create_contact(sim_fixture& f, http_client& c,
                                            const std::string& body) {
    auto r = co_await c.call(http::verb::post, f.api("/sobjects/Contact"), body,
                             bayeux_driver::json_type());
    co_return str(parse_json(r.body)->root["id"]);
}

asio::awaitable<void> patch_contact(sim_fixture& f, http_client& c, const std::string& id,
                                    const std::string& body) {
    auto r = co_await c.call(http::verb::patch, f.api("/sobjects/Contact/" + id), body,
                             bayeux_driver::json_type());
    REQUIRE(r.status == 204);
}

} // namespace

TEST_CASE("NotifyForFields decides which updates notify", "[sim][streaming]") {
    sim_fixture f([](sim::simulator_config& c) {
        c.cometd.connect_timeout = std::chrono::milliseconds(300);
    });
    run(f.io, [&]() -> asio::awaitable<void> {
        // Title is in no query; LastName is selected; Email is only in the WHERE clause.
        const std::string query = "SELECT Id, LastName FROM Contact WHERE Email != null";
        auto script = [&](http_client& c) -> asio::awaitable<void> {
            const std::string id =
                co_await create_contact(f, c, R"({"LastName":"a","Email":"a@b.c"})");
            co_await patch_contact(f, c, id, R"({"Title":"t1"})");    // unreferenced
            co_await patch_contact(f, c, id, R"({"LastName":"b"})");  // selected
            co_await patch_contact(f, c, id, R"({"Email":"z@b.c"})"); // where only
        };
        using v = std::vector<std::string>;
        // Named cases: GCC 12 miscompiles braced temporaries inside co_await.
        const topic_case all{"All", query, ""}, referenced{"Referenced", query, ""},
            select{"Select", query, ""}, where{"Where", query, ""};
        const auto for_all = co_await events_for(f, all, script);
        CHECK(for_all == v{"created", "updated", "updated", "updated"});
        const auto for_referenced = co_await events_for(f, referenced, script);
        CHECK(for_referenced == v{"created", "updated", "updated"});
        const auto for_select = co_await events_for(f, select, script);
        CHECK(for_select == v{"created", "updated"});
        const auto for_where = co_await events_for(f, where, script);
        CHECK(for_where == v{"created", "updated"});
    }());
}

TEST_CASE("WHERE and NotifyForOperation filter events", "[sim][streaming]") {
    sim_fixture f([](sim::simulator_config& c) {
        c.cometd.connect_timeout = std::chrono::milliseconds(300);
    });
    run(f.io, [&]() -> asio::awaitable<void> {
        auto script = [&](http_client& c) -> asio::awaitable<void> {
            (void)co_await create_contact(f, c, R"({"LastName":"nomail"})"); // fails the WHERE
            const std::string id =
                co_await create_contact(f, c, R"({"LastName":"x","Email":"x@b.c"})");
            co_await patch_contact(f, c, id, R"({"LastName":"y"})");
            (void)co_await c.call(http::verb::delete_, f.api("/sobjects/Contact/" + id));
            (void)co_await c.call(http::verb::post, "/__sim/records/Contact/" + id + "/undelete");
        };
        using v = std::vector<std::string>;
        const std::string query = "SELECT Id, LastName, Email FROM Contact WHERE Email != null";
        const topic_case every{"Referenced", query, ""};
        const topic_case no_create_delete{
            "Referenced", query,
            R"(,"NotifyForOperationCreate":false,"NotifyForOperationDelete":false)"};
        const topic_case no_update_undelete{
            "Referenced", query,
            R"(,"NotifyForOperationUpdate":false,"NotifyForOperationUndelete":false)"};
        const auto for_every = co_await events_for(f, every, script);
        CHECK(for_every == v{"created", "updated", "deleted", "undeleted"});
        const auto for_some = co_await events_for(f, no_create_delete, script);
        CHECK(for_some == v{"updated", "undeleted"});
        const auto for_others = co_await events_for(f, no_update_undelete, script);
        CHECK(for_others == v{"created", "deleted"});
    }());
}

TEST_CASE("retention by count turns an old replay id invalid", "[sim][streaming]") {
    sim_fixture f([](sim::simulator_config& c) {
        c.retention.max_events_per_channel = 5;
        c.cometd.connect_timeout = std::chrono::seconds(3);
    });
    bayeux_driver b(f);
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(b.control);
        (void)co_await b.handshake();
        (void)co_await b.subscribe("/data/ContactChangeEvent", -1);
        (void)co_await b.connect();
        (void)co_await create_contact(f, b.control, R"({"LastName":"first"})");
        auto reply = co_await b.connect();
        const std::int64_t first = bayeux_driver::events(*reply).at(0)["data"]["event"]["replayId"];
        // Within retention: replaying from the first event works.
        bayeux_driver within(f);
        within.control.token = b.control.token;
        within.control.cookies = b.control.cookies;
        (void)co_await within.handshake();
        auto ok = co_await within.subscribe("/data/ContactChangeEvent", first);
        CHECK(bool(ok->root.at(0)["successful"]));
        for (int i = 0; i < 6; ++i)
            (void)co_await create_contact(f, b.control, R"({"LastName":"more"})");
        // Six more events pushed the first one and its successor out: a gap would follow.
        auto refused = co_await within.subscribe("/data/ContactChangeEvent", first);
        CHECK_FALSE(bool(refused->root.at(0)["successful"]));
        CHECK_THAT(str(refused->root.at(0)["error"]), Catch::StartsWith("400::The replayId {"));
        auto all = co_await within.subscribe("/data/ContactChangeEvent", -2);
        CHECK(bool(all->root.at(0)["successful"]));
        auto retained = co_await within.connect();
        CHECK(bayeux_driver::events(*retained).size() == 5);
    }());
}
