#include "test/support/bayeux_driver.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {

std::map<std::string, std::string> json_headers() {
    return bayeux_driver::json_type();
}

asio::awaitable<http_reply> create_topic(sim_fixture& f, http_client& c, const std::string& name,
                                         const std::string& query,
                                         const std::string& notify_for_fields = "Referenced") {
    co_return co_await c.call(http::verb::post, f.api("/sobjects/PushTopic"),
                              R"({"Name":")" + name + R"(","Query":")" + query +
                                  R"(","ApiVersion":60.0,"NotifyForFields":")" + notify_for_fields +
                                  R"("})",
                              json_headers());
}

} // namespace

TEST_CASE("PushTopic writes are validated with the reference's texts", "[sim][streaming]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        auto ok =
            co_await create_topic(f, c, "hc_Contact", "SELECT Id, LastName, Email FROM Contact");
        REQUIRE(ok.status == 201);
        CHECK(str(parse_json(ok.body)->root["id"]).starts_with("0IF"));

        struct bad {
            std::string name, query, code, message;
        };
        for (const auto& b : std::vector<bad>{
                 {"MyLeadPushTopics80xlatestubi9", "SELECT Id, Email FROM Lead", "STRING_TOO_LONG",
                  "Topic Name: data value too large: MyLeadPushTopics80xlatestubi9 (max "
                  "length=25)"},
                 {"t1", "SELECT Id, Email FROM Contact LIMIT 5", "INVALID_FIELD",
                  "'LIMIT' is not allowed"},
                 {"t2", "SELECT Id, Email FROM Contact ORDER BY Email", "INVALID_FIELD",
                  "'ORDER BY' clause is not allowed"},
                 {"t3", "SELECT Id, Email FROM Contact WHERE NOT Email = null", "INVALID_FIELD",
                  "'NOT' is not supported"},
                 {"t4", "SELECT Id, Account.Name FROM Contact", "INVALID_FIELD",
                  "relationships are not supported"},
                 {"t5", "SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account)",
                  "INVALID_FIELD", "semi/anti join sub-selects are not supported"},
                 {"t6", "SELECT COUNT(Id) FROM Contact", "INVALID_FIELD",
                  "Aggregate queries are not supported"},
                 {"t7", "SELECT Email FROM Contact", "INVALID_FIELD",
                  "the SELECT clause of a PushTopic query must include Id"},
                 {"hc_Contact", "SELECT Id, Email FROM Contact", "DUPLICATE_VALUE", ""}}) {
            INFO(b.name << ": " << b.query);
            auto r = co_await create_topic(f, c, b.name, b.query);
            CHECK(r.status == 400);
            auto d = parse_json(r.body);
            CHECK(str(d->root.at(0)["errorCode"]) == b.code);
            if (!b.message.empty())
                CHECK(str(d->root.at(0)["message"]) == b.message);
        }
        std::string long_query = "SELECT Id";
        while (long_query.size() < 1300)
            long_query += ", Email";
        long_query += " FROM Contact";
        auto too_long = co_await create_topic(f, c, "t8", long_query);
        CHECK(str(parse_json(too_long.body)->root.at(0)["errorCode"]) == "STRING_TOO_LONG");
    }());
}

TEST_CASE("the Bayeux session follows Salesforce's script", "[sim][streaming][cometd]") {
    // A short hold, so that a wrong expectation fails fast instead of waiting 110 s.
    sim_fixture f([](sim::simulator_config& c) {
        c.cometd.connect_timeout = std::chrono::milliseconds(3000);
    });
    bayeux_driver b(f);
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(b.control);
        auto topic = co_await create_topic(f, b.control, "hc_Contact",
                                           "SELECT Id, LastName, Email FROM Contact");
        REQUIRE(topic.status == 201);

        auto hs = co_await b.handshake();
        auto h = hs->root.at(0);
        CHECK(bool(h["successful"]));
        CHECK(str(h["id"]) == "1");
        CHECK(bool(h["ext"]["replay"]));
        CHECK(h["advice"].error()); // no advice on a handshake
        CHECK(b.client_id.size() >= 26);
        CHECK(b.control.cookies.count("BAYEUX_BROWSER"));
        CHECK(b.control.cookies.count("sfdc-stream"));

        auto sub = co_await b.subscribe("/topic/hc_Contact", -1);
        CHECK(bool(sub->root.at(0)["successful"]));
        CHECK(str(sub->root.at(0)["subscription"]) == "/topic/hc_Contact");

        // The first connect answers at once, with the advice.
        auto first = co_await b.connect();
        auto advice = bayeux_driver::meta(*first, "/meta/connect")["advice"];
        CHECK(std::int64_t(advice["interval"]) == 0);
        CHECK(std::int64_t(advice["timeout"]) == 3000);
        CHECK(str(advice["reconnect"]) == "retry");

        // A record created while the next connect is held comes back in its reply.
        asio::co_spawn(
            f.io,
            [&]() -> asio::awaitable<void> {
                co_await sleep_ms(50);
                (void)co_await b.control.call(
                    http::verb::post, f.api("/sobjects/Contact"),
                    R"({"LastName":"Lee","Email":"lee@example.com","Title":"CEO"})",
                    json_headers());
            },
            asio::detached);
        auto second = co_await b.connect();
        auto events = bayeux_driver::events(*second);
        REQUIRE(events.size() == 1);
        auto e = events[0];
        CHECK(str(e["channel"]) == "/topic/hc_Contact");
        CHECK(str(e["data"]["event"]["type"]) == "created");
        CHECK(str(e["data"]["event"]["createdDate"]).ends_with("Z"));
        const std::int64_t first_replay = e["data"]["event"]["replayId"];
        auto so = e["data"]["sobject"].get_object();
        CHECK(so.size() == 3); // exactly the SELECT fields
        CHECK(str(so["LastName"]) == "Lee");
        CHECK(so["Title"].error());
        const std::string id = str(so["Id"]);
        CHECK(bayeux_driver::meta(*second, "/meta/connect")["advice"].error());

        // NotifyForFields Referenced: a change to an unreferenced field raises nothing; to a
        // referenced one, an update.
        (void)co_await b.control.call(http::verb::patch, f.api("/sobjects/Contact/" + id),
                                      R"({"Title":"CTO"})", json_headers());
        (void)co_await b.control.call(http::verb::patch, f.api("/sobjects/Contact/" + id),
                                      R"({"Email":"new@example.com"})", json_headers());
        (void)co_await b.control.call(http::verb::delete_, f.api("/sobjects/Contact/" + id));
        (void)co_await b.control.call(http::verb::post,
                                      "/__sim/records/Contact/" + id + "/undelete");
        auto third = co_await b.connect();
        auto more = bayeux_driver::events(*third);
        REQUIRE(more.size() == 3); // several events batched in one reply
        CHECK(str(more[0]["data"]["event"]["type"]) == "updated");
        CHECK(str(more[0]["data"]["sobject"]["Email"]) == "new@example.com");
        CHECK(str(more[1]["data"]["event"]["type"]) == "deleted");
        CHECK(str(more[2]["data"]["event"]["type"]) == "undeleted");
        std::int64_t previous = first_replay;
        for (auto m : more) {
            const std::int64_t r = m["data"]["event"]["replayId"];
            CHECK(r > previous);
            previous = r;
        }

        // A write as the Bulk API would make it raises no PushTopic event.
        (void)co_await b.control.call(http::verb::post, "/__sim/records/Contact?bulk=true",
                                      R"([{"LastName":"Bulk","Email":"bulk@example.com"}])");
        (void)co_await b.control.call(http::verb::post, f.api("/sobjects/Contact"),
                                      R"({"LastName":"After"})", json_headers());
        auto fourth = co_await b.connect();
        auto after = bayeux_driver::events(*fourth);
        REQUIRE(after.size() == 1);
        CHECK(str(after[0]["data"]["sobject"]["LastName"]) == "After");

        // Replay: a new session from the first event's id gets everything after it, no gap.
        bayeux_driver again(f);
        again.control.token = b.control.token;
        again.control.cookies = b.control.cookies;
        (void)co_await again.handshake();
        auto resub = co_await again.subscribe("/topic/hc_Contact", first_replay);
        CHECK(bool(resub->root.at(0)["successful"]));
        // The first connect answers at once, with what the replay brings.
        auto replayed = co_await again.connect();
        CHECK(bayeux_driver::events(*replayed).size() == 4);

        // Retention lost: the old replay id is refused with the exact text.
        (void)co_await b.control.call(http::verb::post, "/__sim/faults/lose-retention");
        bayeux_driver late(f);
        late.control.token = b.control.token;
        late.control.cookies = b.control.cookies;
        (void)co_await late.handshake();
        auto refused = co_await late.subscribe("/topic/hc_Contact", first_replay);
        CHECK_FALSE(bool(refused->root.at(0)["successful"]));
        CHECK(str(refused->root.at(0)["error"]) ==
              "400::The replayId {" + std::to_string(first_replay) +
                  "} you provided was invalid.  Please provide a valid ID, -2 to replay all "
                  "events, or -1 to replay only new events.");
        auto all = co_await late.subscribe("/topic/hc_Contact", -2);
        CHECK(bool(all->root.at(0)["successful"]));
        auto missing = co_await late.subscribe("/topic/nope", -1);
        CHECK(str(missing->root.at(0)["error"]) ==
              "400::The channel you requested to subscribe to doesn't exist /topic/nope");
    }());
}

TEST_CASE("held connects time out and idle sessions are forgotten", "[sim][streaming][cometd]") {
    sim_fixture f([](sim::simulator_config& c) {
        c.cometd.connect_timeout = std::chrono::milliseconds(200);
        c.cometd.session_timeout = std::chrono::milliseconds(300);
    });
    bayeux_driver b(f);
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(b.control);
        (void)co_await b.handshake();
        auto first = co_await b.connect();
        CHECK(std::int64_t(bayeux_driver::meta(*first, "/meta/connect")["advice"]["timeout"]) ==
              200);
        const auto start = std::chrono::steady_clock::now();
        auto held = co_await b.connect();
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(180));
        CHECK(bool(bayeux_driver::meta(*held, "/meta/connect")["successful"]));

        co_await sleep_ms(1500); // longer than the reconnect window
        auto late = co_await b.connect();
        auto m = bayeux_driver::meta(*late, "/meta/connect");
        CHECK_FALSE(bool(m["successful"]));
        CHECK(str(m["error"]) == "403::Unknown client");
        CHECK(str(m["advice"]["reconnect"]) == "handshake");
    }());
}

TEST_CASE("Bayeux refuses bad requests with Salesforce's errors", "[sim][streaming][cometd]") {
    sim_fixture f;
    bayeux_driver b(f);
    run(f.io, [&]() -> asio::awaitable<void> {
        // No token: the handshake is denied, with the reason in ext.sfdc.
        auto denied = co_await b.post(
            b.control,
            R"([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}])");
        auto d = parse_json(denied.body);
        CHECK(str(d->root.at(0)["error"]) == "403::Handshake denied");
        CHECK(str(d->root.at(0)["ext"]["sfdc"]["failureReason"]) ==
              "401::Request requires authentication");
        CHECK(str(d->root.at(0)["advice"]["reconnect"]) == "none");

        co_await f.login(b.control);
        auto not_array = co_await b.post(b.control, R"({"channel":"/meta/handshake"})");
        CHECK(not_array.status == 400);
        b.path = "/cometd/";
        auto no_version = co_await b.post(b.control, "[]");
        CHECK(no_version.status == 400);
        CHECK_THAT(no_version.body, Catch::Contains("API version in the URI is mandatory"));
        b.path = "/cometd/36.0";
        auto old = co_await b.post(b.control, "[]");
        CHECK_THAT(old.body, Catch::Contains("Only API versions '37.0' and later are supported"));
        b.path = "/cometd/60.0";
        auto huge = co_await b.post(b.control, "[" + std::string(40000, ' ') + "]");
        CHECK(huge.status == 413);

        (void)co_await b.handshake();
        // Without the browser cookie.
        b.control.cookies.erase("BAYEUX_BROWSER");
        auto no_cookie = co_await b.subscribe("/data/ChangeEvents", -1);
        CHECK(str(no_cookie->root.at(0)["error"]) ==
              "400::Client " + b.client_id +
                  " has established a session, but no BAYEUX_BROWSER cookie present");

        (void)co_await b.handshake();
        (void)co_await b.connect();
        (void)co_await b.control.call(http::verb::post, "/__sim/faults/expire-tokens");
        auto expired = co_await b.connect();
        auto m = bayeux_driver::meta(*expired, "/meta/connect");
        CHECK(str(m["error"]) == "401::Authentication invalid");
        CHECK(str(m["advice"]["reconnect"]) == "none");
    }());
}

TEST_CASE("forgetting every client releases held connects", "[sim][streaming][cometd][fault]") {
    sim_fixture f;
    bayeux_driver b(f);
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(b.control);
        (void)co_await b.handshake();
        (void)co_await b.connect();
        asio::co_spawn(
            f.io,
            [&]() -> asio::awaitable<void> {
                co_await sleep_ms(100);
                http_client ctl = f.client();
                (void)co_await ctl.call(http::verb::post, "/__sim/faults/forget-clients");
            },
            asio::detached);
        const auto start = std::chrono::steady_clock::now();
        auto released = co_await b.connect();
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
        CHECK(str(bayeux_driver::meta(*released, "/meta/connect")["error"]) ==
              "403::Unknown client");
    }());
}

TEST_CASE("Change Data Capture events carry the header and the body rules",
          "[sim][streaming][cdc]") {
    sim_fixture f;
    bayeux_driver b(f);
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(b.control);
        (void)co_await b.handshake();
        auto sub = co_await b.subscribe("/data/AccountChangeEvent", -1);
        REQUIRE(bool(sub->root.at(0)["successful"]));
        (void)co_await b.connect();
        auto created = co_await b.control.call(http::verb::post, f.api("/sobjects/Account"),
                                               R"({"Name":"Acme","Phone":"123"})", json_headers());
        const std::string id = str(parse_json(created.body)->root["id"]);
        (void)co_await b.control.call(http::verb::patch, f.api("/sobjects/Account/" + id),
                                      R"({"Phone":null})", json_headers());
        (void)co_await b.control.call(http::verb::delete_, f.api("/sobjects/Account/" + id));
        // Bulk-path changes are captured too.
        (void)co_await b.control.call(http::verb::post, "/__sim/records/Account?bulk=true",
                                      R"([{"Name":"Bulk"}])");
        auto reply = co_await b.connect();
        auto events = bayeux_driver::events(*reply);
        REQUIRE(events.size() == 4);

        auto create = events[0]["data"]["payload"];
        auto header = create["ChangeEventHeader"];
        CHECK(str(header["entityName"]) == "Account");
        CHECK(str(header["changeType"]) == "CREATE");
        CHECK(str(header["recordIds"].at(0)) == id);
        CHECK(std::int64_t(header["commitTimestamp"]) > 0);
        CHECK(header["changedFields"].get_array().size() == 0);
        CHECK(str(create["Name"]) == "Acme");
        CHECK(create["Id"].error());
        CHECK(create["SystemModstamp"].error());

        auto update = events[1]["data"]["payload"];
        CHECK(str(update["ChangeEventHeader"]["changeType"]) == "UPDATE");
        std::vector<std::string> changed;
        for (auto c : update["ChangeEventHeader"]["changedFields"].get_array())
            changed.push_back(str(c));
        CHECK(std::find(changed.begin(), changed.end(), "Phone") != changed.end());
        CHECK(std::find(changed.begin(), changed.end(), "LastModifiedDate") != changed.end());
        CHECK(update["Phone"].is_null()); // set to null: present, null
        CHECK(update["Name"].error());    // unchanged: absent

        auto del = events[2]["data"]["payload"];
        CHECK(str(del["ChangeEventHeader"]["changeType"]) == "DELETE");
        CHECK(del.get_object().size() == 1); // the header alone
        CHECK(str(events[3]["data"]["payload"]["ChangeEventHeader"]["changeOrigin"]).find("bulk") !=
              std::string::npos);
        CHECK(std::int64_t(events[0]["data"]["event"]["replayId"]) <
              std::int64_t(events[3]["data"]["event"]["replayId"]));
    }());
}

TEST_CASE("HTTP faults: unavailable and reset", "[sim][fault]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        (void)co_await c.call(http::verb::put, "/__sim/faults", R"({"unavailable":true})");
        auto r = co_await c.call(http::verb::get, f.api("/limits"));
        CHECK(r.status == 503);
        (void)co_await c.call(http::verb::put, "/__sim/faults", R"({"resetConnections":true})");
        auto reset = co_await c.call(http::verb::get, f.api("/limits"));
        CHECK(reset.status == 0);
        CHECK(reset.error);
        (void)co_await c.call(http::verb::put, "/__sim/faults", R"({"delayMs":150})");
        const auto start = std::chrono::steady_clock::now();
        auto slow = co_await c.call(http::verb::get, f.api("/limits"));
        CHECK(slow.status == 200);
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(140));
        auto bad = co_await c.call(http::verb::put, "/__sim/faults", R"({"nonsense":1})");
        CHECK(bad.status == 400);
        (void)co_await c.call(http::verb::put, "/__sim/faults", "{}");
        auto fine = co_await c.call(http::verb::get, f.api("/limits"));
        CHECK(fine.status == 200);
    }());
}
