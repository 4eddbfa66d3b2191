// sfsim: the Salesforce simulator as a program. Prints "listening on URL" once ready; stops on
// SIGINT or SIGTERM. See docs/sfsim.md for the control API.
#include "core/log.hpp"
#include "sim/simulator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace {

const char* usage = R"(usage: sfsim [options]

  --listen HOST:PORT        address to serve on (default 127.0.0.1:0, a free port)
  --tls-cert FILE           PEM certificate chain: serve HTTPS (with --tls-key)
  --tls-key FILE            PEM private key
  --schema FILE             a describe (or a JSON array of them) to add; repeatable
  --schema-dir DIR          the objects (default: the shipped Account, Contact, Lead,
                            Opportunity, Case, PushTopic and Sim_Everything__c)
  --synthetic-objects N     add custom objects Sim_Object_1__c .. Sim_Object_N__c, each with
                            Sim_Everything__c's fields (for scale tests; at most 3000)
  --seed N                  seed for ids, replay ids and generated data (default 1)
  --client-id ID            connected app consumer key (default sfsim-client-id)
  --client-secret SECRET    consumer secret (default sfsim-client-secret)
  --username NAME           the API user (default integration@sfsim.test)
  --password PASSWORD       the user's password (default sfsim-password)
  --security-token TOKEN    appended to the password by the password grant (default none)
  --jwt-cert FILE           PEM certificate or public key for the JWT bearer grant
  --token-lifetime SECONDS  access token lifetime (default 7200)
  --connect-timeout MS      how long a /meta/connect is held (default 110000)
  --session-timeout MS      a CometD client with no connect this long is forgotten
                            (default 40000)
  --max-batch N             events in one /meta/connect reply at most (default 1000)
  --bayeux-failure-status N HTTP status of a Bayeux reply whose messages failed (default 200;
                            unverified in the reference)
  --deleted-events id|select  PushTopic "deleted" events carry only Id, or the select fields
                            (default select; unverified in the reference)
  --retention-hours H       PushTopic event retention (default 24; CDC keeps 3x)
  --retention-count N       events kept per channel at most (default 200000)
  --push-topic-limit N      PushTopics the org allows; creating one more fails with
                            LIMIT_EXCEEDED (default 100)
  --api-limit N             daily API requests before REQUEST_LIMIT_EXCEEDED (default 100000)
  --fault-unavailable       answer every request with HTTP 503
  --fault-fail-share X      answer this share (0..1) of requests with HTTP 503
  --fault-delay-ms N        delay every answer
  --fault-lock-share X      fail this share of record writes with UNABLE_TO_LOCK_ROW
  --generate JSON           start a generator of changes at start, with the settings of
                            POST /__sim/generate (docs/sfsim.md); repeatable, e.g.
                            '{"object":"Contact","kind":"mixed","count":1000,"rate":5}'
  --log-level LEVEL         debug, info, warn or error (default info)
  --help                    this text
)";

[[noreturn]] void fail(const std::string& message) {
    std::fprintf(stderr, "sfsim: %s\n%s", message.c_str(), usage);
    std::exit(2);
}

template <class T>
T number(const std::string& flag, const std::string& text) {
    T v{};
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size())
        fail(flag + " expects a number, not '" + text + "'");
    return v;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail("cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

int main(int argc, char** argv) {
    using namespace sfbridge;
    sim::simulator_config cfg;
    sim::fault_settings faults;
    std::vector<std::string> generators;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            std::fputs(usage, stdout);
            return 0;
        }
        const bool is_switch = flag == "--fault-unavailable";
        if (!is_switch && i + 1 >= argc)
            fail(flag + " needs a value");
        const std::string value = is_switch ? "" : argv[++i];
        if (flag == "--listen") {
            const auto colon = value.rfind(':');
            if (colon == std::string::npos)
                fail("--listen expects HOST:PORT");
            cfg.host = value.substr(0, colon);
            if (cfg.host.size() > 2 && cfg.host.front() == '[')
                cfg.host = cfg.host.substr(1, cfg.host.size() - 2);
            cfg.port = number<std::uint16_t>(flag, value.substr(colon + 1));
        } else if (flag == "--tls-cert") {
            cfg.tls_cert_file = value;
        } else if (flag == "--tls-key") {
            cfg.tls_key_file = value;
        } else if (flag == "--schema") {
            cfg.schema_files.push_back(value);
        } else if (flag == "--schema-dir") {
            cfg.schema_dir = value;
        } else if (flag == "--synthetic-objects") {
            cfg.synthetic_objects = number<int>(flag, value);
        } else if (flag == "--seed") {
            cfg.seed = number<std::uint64_t>(flag, value);
        } else if (flag == "--client-id") {
            cfg.auth.client_id = value;
        } else if (flag == "--client-secret") {
            cfg.auth.client_secret = value;
        } else if (flag == "--username") {
            cfg.auth.username = value;
        } else if (flag == "--password") {
            cfg.auth.password = value;
        } else if (flag == "--security-token") {
            cfg.auth.security_token = value;
        } else if (flag == "--jwt-cert") {
            cfg.auth.jwt_public_key_pem = read_file(value);
        } else if (flag == "--token-lifetime") {
            cfg.auth.token_lifetime = std::chrono::seconds(number<long>(flag, value));
        } else if (flag == "--connect-timeout") {
            cfg.cometd.connect_timeout = std::chrono::milliseconds(number<long>(flag, value));
        } else if (flag == "--session-timeout") {
            cfg.cometd.session_timeout = std::chrono::milliseconds(number<long>(flag, value));
        } else if (flag == "--max-batch") {
            cfg.cometd.max_batch = number<std::size_t>(flag, value);
            if (cfg.cometd.max_batch == 0)
                fail("--max-batch must be at least 1");
        } else if (flag == "--bayeux-failure-status") {
            cfg.cometd.failure_http_status = number<unsigned>(flag, value);
            if (cfg.cometd.failure_http_status < 200 || cfg.cometd.failure_http_status > 599)
                fail("--bayeux-failure-status expects an HTTP status");
        } else if (flag == "--deleted-events") {
            if (value != "id" && value != "select")
                fail("--deleted-events expects id or select");
            cfg.retention.deleted_events_id_only = value == "id";
        } else if (flag == "--retention-hours") {
            cfg.retention.push_topic_age = std::chrono::hours(number<long>(flag, value));
            cfg.retention.change_event_age = cfg.retention.push_topic_age * 3;
        } else if (flag == "--retention-count") {
            cfg.retention.max_events_per_channel = number<std::size_t>(flag, value);
        } else if (flag == "--push-topic-limit") {
            cfg.retention.push_topic_limit = number<std::size_t>(flag, value);
        } else if (flag == "--api-limit") {
            cfg.api_daily_limit = number<long>(flag, value);
        } else if (flag == "--fault-unavailable") {
            faults.unavailable = true;
        } else if (flag == "--fault-fail-share") {
            faults.fail_share = std::stod(value);
        } else if (flag == "--fault-delay-ms") {
            faults.delay = std::chrono::milliseconds(number<long>(flag, value));
        } else if (flag == "--fault-lock-share") {
            faults.lock_share = std::stod(value);
        } else if (flag == "--generate") {
            generators.push_back(value);
        } else if (flag == "--log-level") {
            log::level l;
            if (!log::parse_level(value, l))
                fail("--log-level expects debug, info, warn or error");
            log::set_min_level(l);
        } else {
            fail("unknown option " + flag);
        }
    }

    try {
        boost::asio::io_context io(1);
        sim::simulator s(io.get_executor(), cfg);
        s.faults() = faults;
        s.start();
        for (const auto& g : generators)
            s.generate_from(g);
        std::printf("listening on %s\n", s.base_url().c_str());
        std::fflush(stdout);
        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](boost::system::error_code, int) {
            s.stop();
            io.stop();
        });
        io.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sfsim: %s\n", e.what());
        return 1;
    }
    return 0;
}
