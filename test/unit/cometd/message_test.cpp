#include "cometd/message.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::cometd;

namespace {
std::vector<message> parse_ok(message_parser& p, const std::string& body) {
    simdjson::padded_string padded(body);
    std::vector<message> out;
    std::string detail;
    const auto ec = p.parse(std::string_view(padded.data(), padded.size()), out, detail);
    INFO(body << " -> " << detail);
    REQUIRE_FALSE(ec);
    return out;
}
boost::system::error_code parse_fail(message_parser& p, const std::string& body) {
    simdjson::padded_string padded(body);
    std::vector<message> out;
    std::string detail;
    const auto ec = p.parse(std::string_view(padded.data(), padded.size()), out, detail);
    INFO(body);
    CHECK(out.empty());
    return ec;
}
} // namespace

TEST_CASE("Salesforce's handshake and connect replies parse", "[unit][cometd]") {
    message_parser p;
    // The reference's captured handshake reply (kdcllc/CometD.NetCore.Salesforce#43).
    auto hs = parse_ok(
        p,
        R"([{"ext":{"replay":true,"payload.format":true},"minimumVersion":"1.0","clientId":"1cyu4thyxh3fgv1nqwcvebt3o9x","supportedConnectionTypes":["long-polling"],"channel":"/meta/handshake","id":"305","version":"1.0","successful":true}])");
    REQUIRE(hs.size() == 1);
    CHECK(hs[0].channel == "/meta/handshake");
    CHECK(hs[0].client_id == "1cyu4thyxh3fgv1nqwcvebt3o9x");
    CHECK(hs[0].id == "305");
    CHECK(hs[0].successful == true);
    CHECK(hs[0].replay_supported == true);
    CHECK_FALSE(hs[0].server_advice);

    auto c = parse_ok(
        p,
        R"([{"clientId":"hbx1v2cxebbeder11s99dqkxmasre","advice":{"interval":0,"timeout":110000,"reconnect":"retry"},"channel":"/meta/connect","id":"85","successful":true}])");
    REQUIRE(c[0].server_advice);
    CHECK(c[0].server_advice->reconnect == "retry");
    CHECK(c[0].server_advice->timeout == 110000);
    CHECK(c[0].server_advice->interval == 0);
}

TEST_CASE("error replies carry the code, the advice and the failure reason", "[unit][cometd]") {
    message_parser p;
    // From the reference's error catalogue (SF-ERRHANDLE); the id is a number here.
    auto m = parse_ok(
        p,
        R"([{"channel":"/meta/connect","id":6,"error":"401::Authentication invalid","successful":false,"ext":{"sfdc":{"failureReason":"503::Server is too busy.  Please try your request again later."}},"clientId":"b1unwa43ckd43m16v60gs6v2yv7","advice":{"reconnect":"none","interval":0}}])");
    CHECK(m[0].id == "6");
    CHECK(m[0].error_code() == 401);
    CHECK(m[0].failure_reason == "503::Server is too busy.  Please try your request again later.");
    CHECK(m[0].server_advice->reconnect == "none");
    auto u = parse_ok(
        p,
        R"([{"advice":{"interval":0,"reconnect":"handshake"},"channel":"/meta/connect","id":"304","error":"403::Unknown client","successful":false}])");
    CHECK(u[0].error_code() == 403);
    CHECK(u[0].client_id.empty());
    message none;
    none.error = "Unknown client";
    CHECK(none.error_code() == 0);
}

TEST_CASE("events keep their data text and replay id", "[unit][cometd]") {
    message_parser p;
    const std::string push =
        R"({"event":{"createdDate":"2016-03-29T16:40:08.208Z","replayId":13,"type":"created"},"sobject":{"Name":"INV-0001","Id":"a00D0000008o6y8IAA","Status__c":"Open"}})";
    const std::string cdc =
        R"({"schema":"IeRuaY6cbI_HsV8Rv1Mc5g","payload":{"ChangeEventHeader":{"entityName":"Account","changeType":"CREATE"},"Name":"Acme"},"event":{"replayId":6421}})";
    auto m = parse_ok(p, R"([{"channel":"/topic/InvoiceStatementUpdates","data":)" + push +
                             R"(},{"channel":"/data/ChangeEvents","data":)" + cdc +
                             R"(},{"clientId":"x","channel":"/meta/connect","successful":true}])");
    REQUIRE(m.size() == 3);
    CHECK(m[0].data == push); // byte for byte, not re-serialised
    CHECK(m[0].replay_id == 13);
    CHECK_FALSE(m[0].is_meta());
    CHECK(m[1].data == cdc);
    CHECK(m[1].replay_id == 6421);
    CHECK(m[2].is_meta());
    // An event without a replay id is still an event; the session decides what to do.
    auto bare = parse_ok(p, R"([{"channel":"/topic/x","data":{"payload":"hello"}}])");
    CHECK_FALSE(bare[0].replay_id);
    auto stringy = parse_ok(p, R"([{"channel":"/topic/x","data":{"event":{"replayId":"12"}}}])");
    CHECK_FALSE(stringy[0].replay_id);
}

TEST_CASE("malformed responses are errors, never crashes", "[unit][cometd]") {
    message_parser p;
    CHECK(parse_fail(p, "") == parse_errc::not_json);
    CHECK(parse_fail(p, "<html>busy</html>") == parse_errc::not_json);
    CHECK(parse_fail(p, R"({"channel":"/meta/connect"})") == parse_errc::not_an_array);
    CHECK(parse_fail(p, R"([1, 2])") == parse_errc::bad_message);
    CHECK(parse_fail(p, R"([{"channel":5}])") == parse_errc::bad_message);
    CHECK(parse_fail(p, R"([{"successful":"yes","channel":"/meta/connect"}])") ==
          parse_errc::bad_message);
    CHECK(parse_fail(p, R"([{"channel":"/meta/connect","advice":{"timeout":"long"}}])") ==
          parse_errc::bad_message);
    CHECK(parse_fail(p, R"([{"id":"1"}])") == parse_errc::bad_message);              // no channel
    CHECK(parse_fail(p, R"([{"channel":"/meta/connect"})") == parse_errc::not_json); // truncated
    CHECK(parse_fail(p, R"([{"channel":"/meta/connect"}] trailing)") == parse_errc::not_json);
    p.set_limits({100, 10});
    CHECK(parse_fail(p, "[" + std::string(200, ' ') + "]") == parse_errc::too_large);
    std::string many = "[";
    for (int i = 0; i < 11; ++i)
        many += std::string(i ? "," : "") + R"({"channel":"/a"})";
    p.set_limits({1 << 20, 10});
    CHECK(parse_fail(p, many + "]") == parse_errc::too_large);
    // The parser is reusable after a failure.
    CHECK(parse_ok(p, R"([{"channel":"/meta/connect","successful":true}])").size() == 1);
}
