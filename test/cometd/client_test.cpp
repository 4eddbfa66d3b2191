#include "cometd/client.hpp"
#include "test/support/sim_fixture.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

struct stream_fixture : sim_fixture {
    int refreshes = 0;
    std::unique_ptr<cometd::client> client;
    http_client control = this->client_for_control();

    explicit stream_fixture(const std::function<void(sim::simulator_config&)>& tweak = {},
                            std::size_t capacity = 10000,
                            std::chrono::milliseconds reconnect_window = 30000ms,
                            std::size_t capacity_bytes = std::size_t{64} << 20)
        : sim_fixture([&](sim::simulator_config& c) {
              c.cometd.connect_timeout = 2s;
              if (tweak)
                  tweak(c);
          }) {
        cometd::client_config stream;
        stream.endpoint = sim->base_url() + "/cometd/60.0";
        stream.channels = {"/topic/hc_Contact"};
        stream.queue_capacity = capacity;
        stream.queue_bytes = capacity_bytes;
        stream.session.backoff_initial = 50ms;
        stream.session.backoff_max = 500ms;
        stream.session.reconnect_window = reconnect_window;
        stream.session.network_margin = 500ms; // the held connect's deadline: 2 s + 0.5 s
        client = std::make_unique<cometd::client>(
            io.get_executor(), stream,
            [this](bool refresh) -> asio::awaitable<std::optional<std::string>> {
                refreshes += refresh ? 1 : 0;
                co_return sim->tokens().mint_access_token();
            });
    }
    http_client client_for_control() { return http_client(io, sim->port()); }

    bool finished = false;
    boost::system::error_code result;
    void start() {
        asio::co_spawn(
            io,
            [this]() -> asio::awaitable<void> {
                result = co_await client->run();
                finished = true;
            },
            asio::detached);
    }
    // Stops the client and waits for run() to return, as its owner must.
    asio::awaitable<void> shutdown() {
        client->stop();
        for (int i = 0; i < 500 && !finished; ++i)
            co_await sleep_ms(10);
        REQUIRE(finished);
    }

    // Until the client's subscription is in place: events published before it never come.
    asio::awaitable<void> subscribed() {
        for (int i = 0; i < 6000 && sim->cometd().subscription_count() == 0; ++i)
            co_await sleep_ms(10);
        REQUIRE(sim->cometd().subscription_count() > 0);
    }

    asio::awaitable<void> create_topic() {
        control.token = sim->tokens().mint_access_token();
        auto r = co_await control.call(
            http::verb::post, api("/sobjects/PushTopic"),
            R"({"Name":"hc_Contact","Query":"SELECT Id, LastName FROM Contact","ApiVersion":60.0})",
            bayeux_json());
        REQUIRE(r.status == 201);
    }
    static std::map<std::string, std::string> bayeux_json() {
        std::map<std::string, std::string> h;
        h["Content-Type"] = "application/json";
        return h;
    }
    asio::awaitable<void> create_contacts(const std::string& prefix, int n) {
        std::string body = "[";
        for (int i = 0; i < n; ++i)
            body +=
                std::string(i ? "," : "") + R"({"LastName":")" + prefix + std::to_string(i) + "\"}";
        auto r = co_await control.call(http::verb::post, "/__sim/records/Contact", body + "]");
        REQUIRE(r.status == 200);
    }
    // Takes `n` events, committing each replay id as a consumer would after its write.
    asio::awaitable<std::vector<std::string>> take(int n) {
        std::vector<std::string> names;
        while (static_cast<int>(names.size()) < n) {
            auto item = co_await client->next();
            REQUIRE(item);
            REQUIRE(item->what == cometd::stream_item::kind::event);
            auto d = parse_json(item->data);
            names.push_back(str(d->root["sobject"]["LastName"]));
            client->set_committed(item->channel, item->replay_id);
        }
        co_return names;
    }
};

std::vector<std::string> names(const std::string& prefix, int n) {
    std::vector<std::string> v;
    for (int i = 0; i < n; ++i)
        v.push_back(prefix + std::to_string(i));
    return v;
}

} // namespace

TEST_CASE("the client receives events and stops with a disconnect", "[cometd][sim]") {
    stream_fixture f;
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.create_topic();
        f.start();
        co_await f.subscribed(); // from -1: only what follows counts
        co_await f.create_contacts("a", 5);
        const auto got = co_await f.take(5);
        CHECK(got == names("a", 5));
        CHECK(f.sim->cometd().session_count() == 1);
        co_await f.shutdown();
        CHECK_FALSE(f.result);
        CHECK(f.sim->cometd().session_count() == 0); // the disconnect reached the server
        auto after = co_await f.client->next();
        CHECK_FALSE(after);
    }());
}

TEST_CASE("forgotten sessions, expired tokens, 503s and dropped connections lose nothing",
          "[cometd][sim][fault]") {
    stream_fixture f;
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.create_topic();
        f.start();
        co_await f.subscribed();
        std::vector<std::string> all, expected;

        co_await f.create_contacts("a", 3);
        auto got = co_await f.take(3);
        all.insert(all.end(), got.begin(), got.end());

        // The server forgets every client; changes made meanwhile arrive after the re-handshake.
        f.sim->cometd().forget_all_clients();
        co_await f.create_contacts("b", 3);
        got = co_await f.take(3);
        all.insert(all.end(), got.begin(), got.end());

        // Every token expires: one refresh, then on.
        f.sim->tokens().expire_all_access_tokens();
        co_await f.create_contacts("c", 3);
        got = co_await f.take(3);
        all.insert(all.end(), got.begin(), got.end());
        CHECK(f.refreshes >= 1);

        // The server answers 503 for a while.
        f.sim->faults().unavailable = true;
        co_await sleep_ms(300);
        co_await f.create_contacts("d", 3);
        co_await sleep_ms(200);
        f.sim->faults().unavailable = false;
        got = co_await f.take(3);
        all.insert(all.end(), got.begin(), got.end());

        // Every connection is dropped at once.
        f.sim->drop_connections();
        co_await f.create_contacts("e", 3);
        got = co_await f.take(3);
        all.insert(all.end(), got.begin(), got.end());

        for (const char* p : {"a", "b", "c", "d", "e"}) {
            auto n = names(p, 3);
            expected.insert(expected.end(), n.begin(), n.end());
        }
        CHECK(all == expected); // no gap, no duplicate, in order
        co_await f.shutdown();
    }());
}

TEST_CASE("a replay id outside retention is reported, then streaming resumes from the tip",
          "[cometd][sim]") {
    stream_fixture f;
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.create_topic();
        co_await f.create_contacts("old", 2);
        f.sim->streams().lose_retention();
        f.client->set_committed("/topic/hc_Contact", 1); // long gone
        f.start();
        auto item = co_await f.client->next();
        REQUIRE(item);
        CHECK(item->what == cometd::stream_item::kind::events_lost);
        CHECK(item->channel == "/topic/hc_Contact");
        CHECK_THAT(item->message, Catch::Contains("you provided was invalid"));
        // The consumer resynchronises (sfbridge polls), then resubscribes from the tip.
        f.client->resubscribe_from_tip("/topic/hc_Contact");
        co_await f.subscribed();
        co_await f.create_contacts("new", 2);
        const auto got = co_await f.take(2);
        CHECK(got == names("new", 2));
        co_await f.shutdown();
    }());
}

TEST_CASE("a slow consumer gets everything in order and the session never expires",
          "[cometd][sim]") {
    stream_fixture f(
        [](sim::simulator_config& c) {
            c.cometd.max_batch = 20;
            c.cometd.session_timeout = 1500ms; // the server's window, shortened
        },
        10, 1000ms);
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.create_topic();
        f.start();
        co_await f.subscribed();
        co_await f.create_contacts("s", 200);
        std::vector<std::string> got;
        std::size_t most_queued = 0;
        while (got.size() < 200) {
            auto part = co_await f.take(1);
            got.push_back(part[0]);
            most_queued = std::max(most_queued, f.client->queued());
            co_await sleep_ms(got.size() < 20 ? 120 : 1); // slow at first: past the 1.5 s window
        }
        CHECK(got == names("s", 200));
        // The capacity, plus one reply of 20 for each 1 s window the consumer stalled (it
        // stalls about 2.4 s), plus the reply that filled it.
        CHECK(most_queued <= 10 + 4 * 20);
        CHECK(f.client->long_poll_connects() == 1); // never lost its session or connection
        co_await f.shutdown();
    }());
}

TEST_CASE("the event queue is bounded in bytes as well as in events", "[cometd][sim]") {
    // Room for 10,000 events but only 1,500 bytes: long values fill it long before the count.
    constexpr std::size_t bound = 1500;
    stream_fixture f([](sim::simulator_config& c) { c.cometd.max_batch = 5; }, 10000, 30000ms,
                     bound);
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.create_topic();
        f.start();
        co_await f.subscribed(); // events published before it would never come
        co_await f.create_contacts(std::string(70, 'x'), 60); // events of about 200 bytes
        std::size_t got = 0, most_bytes = 0, largest = 0;
        while (got < 60) {
            if (got == 0) // a consumer that does not read: the queue fills to its bound
                for (int i = 0; i < 6000 && f.client->queued_bytes() < bound; ++i)
                    co_await sleep_ms(10);
            auto part = co_await f.take(1);
            ++got;
            most_bytes = std::max(most_bytes, f.client->queued_bytes());
            largest = std::max(largest, part[0].size());
        }
        CHECK(most_bytes >= bound);
        // The bound, plus at most the one reply (5 events of under 400 bytes) that crossed it.
        CHECK(most_bytes < bound + 5 * 400);
        CHECK(f.client->queued() == 0);
        CHECK(f.client->queued_bytes() == 0);
        co_await f.shutdown();
    }());
}

TEST_CASE("a restarted client resumes from the committed replay id with no gap or duplicate",
          "[cometd][sim]") {
    stream_fixture f;
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.create_topic();
        f.start();
        co_await f.subscribed();
        co_await f.create_contacts("a", 4);
        // Process two, commit, and "crash" before processing the rest.
        std::int64_t committed = 0;
        for (int i = 0; i < 2; ++i) {
            auto item = co_await f.client->next();
            committed = item->replay_id;
        }
        co_await f.shutdown();
        co_await f.create_contacts("b", 2); // while nobody listens

        // A new process: a new client, resuming from what was committed.
        cometd::client_config cfg2;
        cfg2.endpoint = f.sim->base_url() + "/cometd/60.0";
        cfg2.channels = {"/topic/hc_Contact"};
        cometd::client again(f.io.get_executor(), cfg2,
                             [&](bool) -> asio::awaitable<std::optional<std::string>> {
                                 co_return f.sim->tokens().mint_access_token();
                             });
        again.set_committed("/topic/hc_Contact", committed);
        bool done = false;
        asio::co_spawn(
            f.io,
            [&]() -> asio::awaitable<void> {
                (void)co_await again.run();
                done = true;
            },
            asio::detached);
        std::vector<std::string> got;
        while (got.size() < 4) {
            auto item = co_await again.next();
            REQUIRE(item);
            got.push_back(str(parse_json(item->data)->root["sobject"]["LastName"]));
        }
        CHECK(got == std::vector<std::string>{"a2", "a3", "b0", "b1"});
        again.stop();
        while (!done)
            co_await sleep_ms(10);
    }());
}

TEST_CASE("stalled requests and a server that drops every connection and session at once",
          "[cometd][sim][fault]") {
    stream_fixture f;
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.create_topic();
        f.start();
        co_await f.subscribed();
        co_await f.create_contacts("a", 2);
        auto got = co_await f.take(2);

        // Everything at once: sessions forgotten and connections cut.
        f.sim->cometd().forget_all_clients();
        f.sim->drop_connections();
        co_await f.create_contacts("b", 2);
        auto more = co_await f.take(2);
        got.insert(got.end(), more.begin(), more.end());

        // The server stalls: it accepts requests and answers nothing. Dropping the connections
        // makes the client send new requests into the stall; its read deadline (2.5 s) must end
        // them, and it must recover once the server answers again.
        f.sim->faults().stall = true;
        f.sim->drop_connections();
        co_await f.create_contacts("c", 2);
        co_await sleep_ms(3500);
        f.sim->faults().stall = false;
        more = co_await f.take(2);
        got.insert(got.end(), more.begin(), more.end());
        CHECK(got == std::vector<std::string>{"a0", "a1", "b0", "b1", "c0", "c1"});
        co_await f.shutdown();
    }());
}
