#include "cometd/session.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::cometd;
using kind = action::kind;
using namespace std::chrono_literals;

namespace {

// Drives a session with scripted server replies, as Boost.MySQL's algo_test drives its
// algorithms: no sockets, no clock.
struct script {
    session s;
    message_parser parser;

    explicit script(std::vector<std::string> channels = {"/topic/a", "/topic/b"},
                    session_config cfg = {})
        : s(cfg, std::move(channels), 7) {}

    action expect(kind k, std::optional<request_kind> r = std::nullopt) {
        auto a = s.next();
        REQUIRE(a);
        INFO("body: " << a->body << " message: " << a->message);
        REQUIRE(static_cast<int>(a->what) == static_cast<int>(k));
        if (r)
            REQUIRE(static_cast<int>(a->request) == static_cast<int>(*r));
        return *a;
    }
    void nothing_more() { REQUIRE_FALSE(s.next()); }
    std::vector<message> parse(const std::string& body) {
        simdjson::padded_string padded(body);
        std::vector<message> out;
        std::string detail;
        REQUIRE_FALSE(parser.parse(std::string_view(padded.data(), padded.size()), out, detail));
        return out;
    }
    void reply(request_kind r, const std::string& body, unsigned status = 200) {
        s.on_reply(r, status, parse(body));
    }
    // Handshake, subscribe both channels, first connect: the usual opening.
    void open(const std::string& client = "c1") {
        s.start();
        expect(kind::send, request_kind::handshake);
        reply(request_kind::handshake, R"([{"channel":"/meta/handshake","clientId":")" + client +
                                           R"(","successful":true,"ext":{"replay":true}}])");
        expect(kind::send, request_kind::subscribe);
        reply(
            request_kind::subscribe,
            R"([{"channel":"/meta/subscribe","subscription":"/topic/a","successful":true},{"channel":"/meta/subscribe","subscription":"/topic/b","successful":true}])");
        expect(kind::send, request_kind::connect);
    }
};

const std::string ok_connect = R"([{"channel":"/meta/connect","clientId":"c1","successful":true}])";

} // namespace

TEST_CASE("the session opens: handshake, subscribe from committed ids, connect", "[unit][cometd]") {
    script t;
    t.s.set_committed("/topic/a", 1234);
    t.s.start();
    auto hs = t.expect(kind::send, request_kind::handshake);
    CHECK(hs.body.front() == '['); // always a JSON array
    CHECK(hs.body.find(R"("supportedConnectionTypes":["long-polling"])") != std::string::npos);
    CHECK(hs.body.find(R"("ext":{"replay":true})") != std::string::npos);
    t.nothing_more();
    t.reply(
        request_kind::handshake,
        R"([{"ext":{"replay":true,"payload.format":true},"clientId":"c1","channel":"/meta/handshake","id":"1","successful":true}])");
    auto sub = t.expect(kind::send, request_kind::subscribe);
    // Both channels in one request; each resumes from its committed id, -1 when none.
    CHECK(sub.body.find(R"("subscription":"/topic/a","ext":{"replay":{"/topic/a":1234}})") !=
          std::string::npos);
    CHECK(sub.body.find(R"("subscription":"/topic/b","ext":{"replay":{"/topic/b":-1}})") !=
          std::string::npos);
    CHECK(sub.body.find(R"("clientId":"c1")") != std::string::npos);
    t.reply(
        request_kind::subscribe,
        R"([{"channel":"/meta/subscribe","subscription":"/topic/a","successful":true},{"channel":"/meta/subscribe","subscription":"/topic/b","successful":true}])");
    auto c = t.expect(kind::send, request_kind::connect);
    CHECK(c.body.find(R"("connectionType":"long-polling")") != std::string::npos);
    CHECK(c.timeout == 120000ms); // the assumed 110 s hold plus the margin, before any advice
    t.nothing_more();
    CHECK(t.s.connected());
}

TEST_CASE("advice: retry with timeout and interval, handshake, none", "[unit][cometd]") {
    SECTION("retry: the read deadline follows advice.timeout, the interval is waited") {
        script t;
        t.open();
        t.reply(
            request_kind::connect,
            R"([{"channel":"/meta/connect","successful":true,"advice":{"interval":2000,"timeout":30000,"reconnect":"retry"}}])");
        auto wait = t.expect(kind::sleep);
        CHECK(wait.timeout == 2000ms);
        t.nothing_more();
        t.s.on_sleep_done();
        auto c = t.expect(kind::send, request_kind::connect);
        CHECK(c.timeout == 40000ms); // 30 s advised + 10 s margin
    }
    SECTION("handshake: the session starts again and resubscribes") {
        script t;
        t.open();
        t.reply(
            request_kind::connect,
            R"([{"channel":"/meta/connect","successful":false,"error":"403::Unknown client","advice":{"interval":0,"reconnect":"handshake"}}])");
        t.expect(kind::send, request_kind::handshake);
    }
    SECTION("none: the stream stops with the reason") {
        script t;
        t.open();
        t.reply(
            request_kind::connect,
            R"([{"channel":"/meta/connect","successful":false,"error":"403::Restricted","advice":{"reconnect":"none"}}])");
        auto f = t.expect(kind::fatal);
        CHECK(f.message.find("403::Restricted") != std::string::npos);
        t.nothing_more();
    }
}

TEST_CASE("Unknown client, with or without clientId, and 402: resubscribe from committed ids",
          "[unit][cometd]") {
    for (
        const char* reply :
        {R"([{"advice":{"interval":0,"reconnect":"handshake"},"channel":"/meta/connect","error":"403::Unknown client","successful":false}])",
         R"([{"clientId":"c1","advice":{"reconnect":"none"},"channel":"/meta/connect","error":"403::Unknown client","successful":false}])",
         R"([{"channel":"/meta/connect","error":"402::Unknown client","successful":false}])"}) {
        INFO(reply);
        script t;
        t.open();
        // Events up to 55 were committed while connected.
        t.s.set_committed("/topic/a", 55);
        t.reply(request_kind::connect, reply);
        t.expect(kind::send, request_kind::handshake);
        t.reply(request_kind::handshake,
                R"([{"channel":"/meta/handshake","clientId":"c2","successful":true}])");
        auto sub = t.expect(kind::send, request_kind::subscribe);
        CHECK(sub.body.find(R"({"/topic/a":55})") != std::string::npos);
        CHECK(sub.body.find(R"("clientId":"c2")") != std::string::npos);
    }
}

TEST_CASE("authentication failures: one fresh token, then fatal", "[unit][cometd]") {
    SECTION("401::Authentication invalid on connect") {
        script t;
        t.open();
        t.reply(
            request_kind::connect,
            R"([{"clientId":"c1","advice":{"reconnect":"none","interval":0},"channel":"/meta/connect","error":"401::Authentication invalid","successful":false}])");
        t.expect(kind::refresh_token);
        t.nothing_more();
        t.s.on_token(true);
        t.expect(kind::send, request_kind::handshake);
        // The fresh token is refused too.
        t.reply(
            request_kind::handshake,
            R"([{"ext":{"sfdc":{"failureReason":"401::Authentication invalid"}},"advice":{"reconnect":"none"},"channel":"/meta/handshake","error":"403::Handshake denied","successful":false}])");
        auto f = t.expect(kind::fatal);
        CHECK(f.message.find("401::Authentication invalid") != std::string::npos);
    }
    SECTION("403::Handshake denied whose failureReason is 401") {
        script t;
        t.s.start();
        t.expect(kind::send, request_kind::handshake);
        t.reply(
            request_kind::handshake,
            R"([{"ext":{"sfdc":{"failureReason":"401::Request requires authentication"}},"advice":{"reconnect":"none"},"channel":"/meta/handshake","error":"403::Handshake denied","successful":false}])");
        t.expect(kind::refresh_token);
        t.s.on_token(false);
        t.expect(kind::fatal);
    }
    SECTION("a successful handshake resets the allowance") {
        script t;
        t.open();
        for (int round = 0; round < 3; ++round) {
            t.reply(
                request_kind::connect,
                R"([{"channel":"/meta/connect","error":"401::Authentication invalid","successful":false}])");
            t.expect(kind::refresh_token);
            t.s.on_token(true);
            t.expect(kind::send, request_kind::handshake);
            t.reply(request_kind::handshake,
                    R"([{"channel":"/meta/handshake","clientId":"c","successful":true}])");
            t.expect(kind::send, request_kind::subscribe);
            t.reply(
                request_kind::subscribe,
                R"([{"channel":"/meta/subscribe","subscription":"/topic/a","successful":true}])");
            t.expect(kind::send, request_kind::connect);
        }
    }
}

TEST_CASE("network failures and 503 back off exponentially with jitter, capped", "[unit][cometd]") {
    session_config cfg;
    cfg.backoff_initial = 100ms;
    cfg.backoff_max = 2000ms;
    cfg.jitter = 0.25;
    script t({"/topic/a"}, cfg);
    t.s.start();
    t.expect(kind::send, request_kind::handshake);
    std::vector<long> delays;
    for (int i = 0; i < 8; ++i) {
        if (i % 2)
            t.s.on_failure(request_kind::handshake, "connection reset");
        else
            t.reply(
                request_kind::handshake,
                R"([{"channel":"/meta/handshake","error":"503::Server is too busy. Please try your request again later.","successful":false}])");
        auto a = t.expect(kind::sleep);
        delays.push_back(a.timeout.count());
        t.s.on_sleep_done();
        t.expect(kind::send, request_kind::handshake);
    }
    for (std::size_t i = 0; i < delays.size(); ++i) {
        const double nominal = std::min(2000.0, 100.0 * std::pow(2.0, static_cast<double>(i)));
        INFO("attempt " << i << ": " << delays[i] << " ms");
        CHECK(delays[i] >= static_cast<long>(nominal * 0.75) - 1);
        CHECK(delays[i] <= std::min(2000L, static_cast<long>(nominal * 1.25) + 1));
    }
    CHECK(delays.back() <= 2000); // capped
    // Success resets the count.
    t.reply(request_kind::handshake,
            R"([{"channel":"/meta/handshake","clientId":"c","successful":true}])");
    t.expect(kind::send, request_kind::subscribe);
    t.s.on_failure(request_kind::subscribe, "timeout");
    CHECK(t.expect(kind::sleep).timeout <= 125ms);
}

TEST_CASE("the concurrent user limit backs off longer", "[unit][cometd]") {
    session_config cfg;
    cfg.backoff_initial = 100ms;
    cfg.busy_backoff_initial = 10000ms;
    cfg.backoff_max = 60000ms;
    script t({"/topic/a"}, cfg);
    t.s.start();
    t.expect(kind::send, request_kind::handshake);
    t.reply(
        request_kind::handshake,
        R"([{"ext":{"sfdc":{"failureReason":"403::Organization concurrent user limit exceeded"},"replay":true},"advice":{"reconnect":"none"},"channel":"/meta/handshake","id":"1","error":"403::Handshake denied","successful":false}])");
    CHECK(t.expect(kind::sleep).timeout >= 7500ms);
}

TEST_CASE("an invalid replay id reports lost events for that channel only", "[unit][cometd]") {
    script t;
    t.s.set_committed("/topic/a", 1553783);
    t.s.start();
    t.expect(kind::send, request_kind::handshake);
    t.reply(request_kind::handshake,
            R"([{"channel":"/meta/handshake","clientId":"c1","successful":true}])");
    t.expect(kind::send, request_kind::subscribe);
    t.reply(
        request_kind::subscribe,
        R"([{"clientId":"c1","channel":"/meta/subscribe","subscription":"/topic/a","error":"400::The replayId {1553783} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.","successful":false},{"channel":"/meta/subscribe","subscription":"/topic/b","successful":true}])");
    auto lost = t.expect(kind::events_lost);
    CHECK(lost.channel == "/topic/a");
    t.expect(kind::send, request_kind::connect); // /topic/b streams meanwhile
    // The consumer resynchronised (sfbridge polls), then resubscribes from the tip.
    t.s.resubscribe_from_tip("/topic/a");
    auto sub = t.expect(kind::send, request_kind::subscribe);
    CHECK(sub.body.find(R"({"/topic/a":-1})") != std::string::npos);
    CHECK(sub.body.find("/topic/b") == std::string::npos);
}

TEST_CASE("the reference's subscribe errors end the stream with their text", "[unit][cometd]") {
    for (const char* error :
         {"400::The channel you requested to subscribe to doesn't exist /topic/x",
          "403::Restricted channel", "403::Subscription limit exceeded for this topic",
          "403::User not enabled for streaming"}) {
        INFO(error);
        script t({"/topic/a"});
        t.s.start();
        t.expect(kind::send, request_kind::handshake);
        t.reply(request_kind::handshake,
                R"([{"channel":"/meta/handshake","clientId":"c1","successful":true}])");
        t.expect(kind::send, request_kind::subscribe);
        t.reply(
            request_kind::subscribe,
            std::string(
                R"([{"channel":"/meta/subscribe","subscription":"/topic/a","successful":false,"error":")") +
                error + "\"}]");
        auto f = t.expect(kind::fatal);
        CHECK(f.message.find(error) != std::string::npos);
    }
}

TEST_CASE("events are handed over and a full consumer holds the next connect", "[unit][cometd]") {
    session_config cfg;
    cfg.reconnect_window = 30000ms;
    script t({"/topic/a"}, cfg);
    t.open();
    t.s.set_now(1000);
    t.reply(
        request_kind::connect,
        R"([{"channel":"/topic/a","data":{"event":{"replayId":5}}},{"channel":"/topic/zzz","data":{"event":{"replayId":1}}},{"channel":"/meta/connect","successful":true}])");
    auto events = t.s.take_events();
    REQUIRE(events.size() == 1); // the unknown channel is dropped
    CHECK(events[0].replay_id == 5);
    t.expect(kind::send, request_kind::connect);

    // The consumer is full: the reply's successor waits for room...
    t.s.on_full();
    t.s.set_now(2000);
    t.reply(request_kind::connect, ok_connect);
    auto wait = t.expect(kind::wait_for_room);
    CHECK(wait.timeout == 30000ms);
    t.nothing_more();
    t.s.on_room();
    t.expect(kind::send, request_kind::connect);

    // ...or for the end of the reconnect window, whichever comes first.
    t.s.on_full();
    t.s.set_now(5000);
    t.reply(request_kind::connect, ok_connect);
    t.expect(kind::wait_for_room);
    t.s.set_now(35000);
    t.s.on_sleep_done();
    t.expect(kind::send, request_kind::connect);
}

TEST_CASE("stop sends a disconnect and ends", "[unit][cometd]") {
    script t;
    t.open();
    t.s.stop();
    auto d = t.expect(kind::send, request_kind::disconnect);
    CHECK(d.body.find(R"("channel":"/meta/disconnect","clientId":"c1")") != std::string::npos);
    t.reply(request_kind::disconnect, R"([{"channel":"/meta/disconnect","successful":true}])");
    t.expect(kind::done);
    // A failed disconnect ends just the same.
    script u;
    u.open();
    u.s.stop();
    u.expect(kind::send, request_kind::disconnect);
    u.s.on_failure(request_kind::disconnect, "reset");
    u.expect(kind::done);
    // Stopping before any handshake needs no disconnect.
    script v;
    v.s.stop();
    v.expect(kind::done);
}

TEST_CASE("each network failure at each step is survived", "[unit][cometd]") {
    // After Boost.MySQL's check_network_errors: fail each request of the opening once. A failed
    // connect starts a new session: its lost reply may have carried events, which only a
    // resubscription from the committed replay ids brings back.
    for (int step = 0; step < 3; ++step) {
        INFO("failing step " << step);
        script t({"/topic/a"});
        t.s.set_committed("/topic/a", 41);
        t.s.start();
        t.expect(kind::send, request_kind::handshake);
        if (step == 0) {
            t.s.on_failure(request_kind::handshake, "connection reset");
            t.expect(kind::sleep);
            t.s.on_sleep_done();
            t.expect(kind::send, request_kind::handshake);
        }
        t.reply(request_kind::handshake,
                R"([{"channel":"/meta/handshake","clientId":"c1","successful":true}])");
        t.expect(kind::send, request_kind::subscribe);
        if (step == 1) {
            t.s.on_failure(request_kind::subscribe, "timeout");
            t.expect(kind::sleep);
            t.s.on_sleep_done();
            t.expect(kind::send, request_kind::subscribe);
        }
        t.reply(request_kind::subscribe,
                R"([{"channel":"/meta/subscribe","subscription":"/topic/a","successful":true}])");
        t.expect(kind::send, request_kind::connect);
        if (step == 2) {
            t.s.on_failure(request_kind::connect, "read deadline passed");
            t.expect(kind::sleep);
            t.s.on_sleep_done();
            t.expect(kind::send, request_kind::handshake);
            t.reply(request_kind::handshake,
                    R"([{"channel":"/meta/handshake","clientId":"c2","successful":true}])");
            auto sub = t.expect(kind::send, request_kind::subscribe);
            CHECK(sub.body.find(R"({"/topic/a":41})") != std::string::npos);
            t.reply(
                request_kind::subscribe,
                R"([{"channel":"/meta/subscribe","subscription":"/topic/a","successful":true}])");
            t.expect(kind::send, request_kind::connect);
        }
        t.reply(request_kind::connect, ok_connect);
        t.expect(kind::send, request_kind::connect);
        CHECK(t.s.connected());
    }
}

TEST_CASE("every error of the reference's catalogue gets its response", "[unit][cometd]") {
    // The Streaming API error catalogue (salesforce-protocol.md 1.10) and what the session does.
    struct row {
        request_kind where;
        const char* reply;
        kind expected;
        std::optional<request_kind> then;
    };
    const row rows[] = {
        {request_kind::handshake,
         R"([{"channel":"/meta/handshake","error":"403::Handshake denied","ext":{"sfdc":{"failureReason":"401::Authentication invalid"}},"advice":{"reconnect":"none"},"successful":false}])",
         kind::refresh_token,
         {}},
        {request_kind::handshake,
         R"([{"channel":"/meta/handshake","error":"403::Handshake denied","ext":{"sfdc":{"failureReason":"401::Request requires authentication"}},"successful":false}])",
         kind::refresh_token,
         {}},
        {request_kind::handshake,
         R"([{"channel":"/meta/handshake","error":"403::Handshake denied","ext":{"sfdc":{"failureReason":"403::Organization concurrent user limit exceeded"}},"successful":false}])",
         kind::sleep,
         {}},
        {request_kind::handshake,
         R"([{"channel":"/meta/handshake","error":"403::Handshake denied","ext":{"sfdc":{"failureReason":"403::To protect all customers from excessive use and Denial of Service attacks, we limit the number of simultaneous connections per server. Please try your request again later."}},"successful":false}])",
         kind::sleep,
         {}},
        {request_kind::handshake,
         R"([{"channel":"/meta/handshake","error":"400::Unsupported API version. Only API versions '37.0' and later are supported. URI format: '/cometd/66.0'","advice":{"reconnect":"none"},"successful":false}])",
         kind::fatal,
         {}},
        {request_kind::handshake,
         R"([{"channel":"/meta/handshake","error":"503::Server is too busy. Please try your request again later.","successful":false}])",
         kind::sleep,
         {}},
        {request_kind::connect,
         R"([{"channel":"/meta/connect","error":"403::Unknown client","advice":{"interval":0,"reconnect":"handshake"},"successful":false}])",
         kind::send, request_kind::handshake},
        {request_kind::connect,
         R"([{"channel":"/meta/connect","error":"402::Unknown client","successful":false}])",
         kind::send, request_kind::handshake},
        {request_kind::connect,
         R"([{"channel":"/meta/connect","error":"400::Client c1 has established a session, but no BAYEUX_BROWSER cookie present","successful":false}])",
         kind::send, request_kind::handshake},
        {request_kind::connect,
         R"([{"channel":"/meta/connect","error":"401::Authentication invalid","advice":{"reconnect":"none","interval":0},"successful":false}])",
         kind::refresh_token,
         {}},
        {request_kind::connect,
         R"([{"channel":"/meta/connect","error":"403::Organization total events daily limit exceeded","successful":false}])",
         kind::sleep,
         {}},
        {request_kind::connect,
         R"([{"channel":"/meta/connect","error":"400::Invalid connection type websocket","advice":{"reconnect":"none"},"successful":false}])",
         kind::fatal,
         {}},
        {request_kind::connect,
         R"([{"channel":"/meta/connect","error":"503::Server is too busy. Please try your request again later.","successful":false}])",
         kind::sleep,
         {}},
        {request_kind::subscribe,
         R"([{"channel":"/meta/subscribe","subscription":"/topic/a","error":"403::Client has not completed handshake","successful":false}])",
         kind::send, request_kind::handshake},
        {request_kind::subscribe,
         R"([{"channel":"/meta/subscribe","subscription":"/topic/a","error":"400::The replayId {1553783} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.","successful":false}])",
         kind::events_lost,
         {}},
        {request_kind::subscribe,
         R"([{"channel":"/meta/subscribe","subscription":"/topic/a","error":"400::The channel you requested to subscribe to doesn't exist /topic/a","successful":false}])",
         kind::fatal,
         {}},
        {request_kind::subscribe,
         R"([{"channel":"/meta/subscribe","subscription":"/topic/a","error":"403::Restricted channel","successful":false}])",
         kind::fatal,
         {}},
        {request_kind::subscribe,
         R"([{"channel":"/meta/subscribe","subscription":"/topic/a","error":"403::Subscriber does not have access to the entity in this topic","successful":false}])",
         kind::fatal,
         {}},
        {request_kind::subscribe,
         R"([{"channel":"/meta/subscribe","subscription":"/topic/a","error":"400::Query fields {Foo} do not exist on the topic entity","successful":false}])",
         kind::fatal,
         {}},
        {request_kind::subscribe,
         R"([{"channel":"/meta/subscribe","subscription":"/topic/a","error":"403::Cannot create channel /topic/a","successful":false}])",
         kind::fatal,
         {}},
        {request_kind::subscribe,
         R"([{"channel":"/meta/subscribe","subscription":"/topic/a","error":"400::Authenticated user id does not match the session's user id","successful":false}])",
         kind::fatal,
         {}},
    };
    for (const auto& r : rows) {
        INFO(r.reply);
        script t({"/topic/a"});
        t.s.start();
        t.expect(kind::send, request_kind::handshake);
        if (r.where != request_kind::handshake) {
            t.reply(request_kind::handshake,
                    R"([{"channel":"/meta/handshake","clientId":"c1","successful":true}])");
            t.expect(kind::send, request_kind::subscribe);
            if (r.where == request_kind::connect) {
                t.reply(
                    request_kind::subscribe,
                    R"([{"channel":"/meta/subscribe","subscription":"/topic/a","successful":true}])");
                t.expect(kind::send, request_kind::connect);
            }
        }
        t.reply(r.where, r.reply);
        t.expect(r.expected, r.then);
    }
}

TEST_CASE("replies are matched to requests by id", "[unit][cometd]") {
    script t({"/topic/a", "/topic/b"});
    t.s.start();
    auto hs = t.expect(kind::send, request_kind::handshake);
    // A reply carrying another request's id is not the handshake's answer: a failure.
    t.reply(request_kind::handshake,
            R"([{"channel":"/meta/handshake","id":"999","clientId":"c1","successful":true}])");
    t.expect(kind::sleep);
    t.s.on_sleep_done();
    auto again = t.expect(kind::send, request_kind::handshake);
    const auto id_at = again.body.find(R"("id":")");
    const std::string id =
        again.body.substr(id_at + 6, again.body.find('"', id_at + 6) - id_at - 6);
    t.reply(request_kind::handshake, R"([{"channel":"/meta/handshake","id":")" + id +
                                         R"(","clientId":"c1","successful":true}])");
    auto sub = t.expect(kind::send, request_kind::subscribe);
    // Subscribe replies without a subscription field are matched by id.
    const auto first = sub.body.find(R"("id":")");
    const std::string id_a = sub.body.substr(first + 6, sub.body.find('"', first + 6) - first - 6);
    t.reply(
        request_kind::subscribe,
        R"([{"channel":"/meta/subscribe","id":")" + id_a +
            R"(","error":"400::The replayId {5} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.","successful":false},{"channel":"/meta/subscribe","subscription":"/topic/b","successful":true}])");
    auto lost = t.expect(kind::events_lost);
    CHECK(lost.channel == "/topic/a");
}

TEST_CASE("hundreds of channels subscribe in batches under Salesforce's 32,768-byte request "
          "limit, one batch at a time, then connect",
          "[unit][cometd]") {
    std::vector<std::string> channels;
    for (int i = 1; i <= 300; ++i)
        channels.push_back("/topic/hc_Sim_Object_" + std::to_string(i) + "__c");
    script t(channels);
    t.s.start();
    t.expect(kind::send, request_kind::handshake);
    t.reply(request_kind::handshake,
            R"([{"channel":"/meta/handshake","clientId":"c1","successful":true}])");
    std::size_t subscribed = 0, batches = 0;
    while (subscribed < channels.size()) {
        auto sub = t.expect(kind::send, request_kind::subscribe);
        t.nothing_more(); // the next batch waits for this one's reply
        ++batches;
        CHECK(sub.body.size() <= 32768);
        CHECK(sub.body.front() == '[');
        CHECK(sub.body.back() == ']');
        auto sent = t.parse(sub.body);
        REQUIRE_FALSE(sent.empty());
        std::string reply = "[";
        for (const auto& m : sent) {
            CHECK(m.subscription == channels[subscribed]); // in order, none twice
            ++subscribed;
            reply += std::string(reply.size() > 1 ? "," : "") +
                     R"({"channel":"/meta/subscribe","id":")" + m.id + R"(","subscription":")" +
                     m.subscription + R"(","successful":true})";
        }
        CHECK_FALSE(t.s.connected());
        t.reply(request_kind::subscribe, reply + "]");
    }
    CHECK(batches >= 2);
    t.expect(kind::send, request_kind::connect);
    t.nothing_more();
    CHECK(t.s.connected());

    // A batch refused with 503 backs off, then every channel is subscribed again from the
    // first batch.
    script u(channels);
    u.s.start();
    u.expect(kind::send, request_kind::handshake);
    u.reply(request_kind::handshake,
            R"([{"channel":"/meta/handshake","clientId":"c1","successful":true}])");
    u.expect(kind::send, request_kind::subscribe);
    u.reply(request_kind::subscribe,
            R"([{"channel":"/meta/subscribe","successful":false,"error":"503::Server busy"}])");
    u.expect(kind::sleep);
    u.nothing_more();
    u.s.on_sleep_done();
    auto again = u.expect(kind::send, request_kind::subscribe);
    CHECK(u.parse(again.body).front().subscription == channels.front());
    u.nothing_more();
}
