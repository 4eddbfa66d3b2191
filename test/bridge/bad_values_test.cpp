// Values and rows Postgres cannot take as Salesforce sends them (issue 15, items 4 and 5): a
// NUL in text, rows refused by a constraint or an app trigger, a transient failure. Each test
// ends with a change made after the fault arriving, and the engine still running.
#include "bridge/state_sql.hpp"
#include "core/json_writer.hpp"
#include "test/support/bridge_harness.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {

// The one value `sql` selects, "(no row)" or "(null)" otherwise.
asio::awaitable<std::string> value_of(pg::connection& c, const std::string& sql) {
    auto r = co_await must_query(c, sql);
    if (r.rows() == 0)
        co_return "(no row)";
    co_return r.is_null(0, 0) ? "(null)" : std::string(r.value(0, 0));
}

// Waits until `sql` selects `want` (a generous deadline: the machine may be busy).
asio::awaitable<bool> becomes(pg::connection& c, const std::string& sql, const std::string& want,
                              int seconds = 60) {
    std::string got;
    for (int i = 0; i < seconds * 10; ++i) {
        got = co_await value_of(c, sql);
        if (got == want)
            co_return true;
        co_await sleep_ms(100);
    }
    UNSCOPED_INFO(sql << ": " << got << ", not " << want);
    co_return false;
}

std::string lastname_of(const harness& h, const std::string& id) {
    return "SELECT lastname FROM " + h.schema + ".contact WHERE sfid = '" + id + "'";
}

// "channel|message" of each _sfbridge_errors row about the record, in order.
asio::awaitable<std::vector<std::string>> errors_of(harness& h, pg::connection& c,
                                                    const std::string& id) {
    auto r = co_await must_query(c, "SELECT channel || '|' || message FROM " + h.schema +
                                        "._sfbridge_errors WHERE sfid = '" + id + "' ORDER BY id");
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i)
        out.emplace_back(r.value(i, 0));
    co_return out;
}

// Waits until the mapping has been polled `total` times.
asio::awaitable<bool> polled(harness& h, std::size_t total) {
    for (int i = 0; i < 600; ++i) {
        if (h.engine->stats()[0].polls >= total)
            co_return true;
        co_await sleep_ms(100);
    }
    co_return false;
}

// Waits for `more` polls of the mapping after now.
asio::awaitable<bool> polls_pass(harness& h, std::size_t more) {
    co_return co_await polled(h, h.engine->stats()[0].polls + more);
}

struct log_capture {
    std::string text;
    log_capture() {
        log::set_sink([this](std::string_view line) { text.append(line).push_back('\n'); });
    }
    ~log_capture() { log::set_sink({}); } // also when a REQUIRE ends the test early
};

} // namespace

TEST_CASE("a NUL in a text value arrives removed and noted by the REST load and by streaming",
          "[bridge][bad_values]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            const auto loaded =
                co_await sim_create(h, "Contact", R"([{"LastName":"Nul\u0000Load"}])");
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            cfg.poll_interval = std::chrono::seconds(600); // after the first poll: streaming only
            co_await h.start(cfg);
            bool ok = co_await becomes(c, lastname_of(h, loaded[0]), "NulLoad");
            CHECK(ok);
            ok = co_await polled(h, 1); // the first poll, at once after the load
            REQUIRE(ok);
            const auto streamed =
                co_await sim_create(h, "Contact", R"([{"LastName":"\u0000Nul\u0000Stream"}])");
            ok = co_await becomes(c, lastname_of(h, streamed[0]), "NulStream");
            CHECK(ok);
            const auto after = co_await sim_create(h, "Contact", R"([{"LastName":"After"}])");
            ok = co_await becomes(c, lastname_of(h, after[0]), "After");
            CHECK(ok);
            // Once each, though the stream replayed the loaded record's creation as well.
            auto noted = co_await errors_of(h, c, loaded[0]);
            CHECK(noted ==
                  std::vector<std::string>{"query|NUL characters removed from field LastName"});
            noted = co_await errors_of(h, c, streamed[0]);
            CHECK(noted == std::vector<std::string>{
                               "/topic/hc_Contact|NUL characters removed from field LastName"});
            CHECK(h.running);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("a NUL in a text value arrives removed and noted by a Bulk load and by polling",
          "[bridge][bad_values]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            const auto loaded =
                co_await sim_create(h, "Contact", R"([{"LastName":"Nul\u0000Bulk"}])");
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", false)); // no streaming
            cfg.bulk_threshold = 1; // the Bulk API: a raw NUL in its CSV
            co_await h.start(cfg);
            bool ok = co_await becomes(c, lastname_of(h, loaded[0]), "NulBulk");
            CHECK(ok);
            const auto polled =
                co_await sim_create(h, "Contact", R"([{"LastName":"Nul\u0000Poll"}])");
            ok = co_await becomes(c, lastname_of(h, polled[0]), "NulPoll");
            CHECK(ok);
            const auto after = co_await sim_create(h, "Contact", R"([{"LastName":"After"}])");
            ok = co_await becomes(c, lastname_of(h, after[0]), "After");
            CHECK(ok);
            // The polls overlap (by 2 s here, every 0.3 s) and meet the record again: still once.
            ok = co_await polls_pass(h, 4);
            CHECK(ok);
            auto noted = co_await errors_of(h, c, loaded[0]);
            CHECK(noted ==
                  std::vector<std::string>{"bulk|NUL characters removed from field LastName"});
            noted = co_await errors_of(h, c, polled[0]);
            CHECK(noted ==
                  std::vector<std::string>{"poll|NUL characters removed from field LastName"});
            CHECK(h.running);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

namespace {

// Sim_Everything__c as Long_Text__c, whose long text area takes Salesforce's largest, 131,072
// characters.
std::string long_text_schema() {
    return sim_everything_as("Long_Text__c", "Long Text", "a0L", [](auto& fields) {
        for (auto& f : fields)
            if (*f.as_object()->at("name").as_string() == "LongTextArea__c") {
                auto copy = *f.as_object();
                copy["length"] = 131072;
                f = copy;
            }
    });
}

// 131,072 bytes of text with everything COPY and JSON escape: tabs, newlines, backslashes,
// quotes, carriage returns.
std::string long_text() {
    const std::string piece = "line \"quoted\" back\\slash\ttab\r\n";
    std::string s;
    while (s.size() < 131072)
        s += piece;
    s.resize(131072);
    return s;
}

// 4-byte UTF-8 (emoji, a flag sequence with a zero-width joiner, a musical symbol) and others.
const std::string emoji = "\xF0\x9F\x98\x80 \xF0\x9F\x8F\xB3\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x8C"
                          "\x88 \xF0\x9D\x84\x9E \xE4\xB8\xAD\xE6\x96\x87 caf\xC3\xA9";

std::string long_record(const std::string& name) {
    std::string body = R"([{"Name":)";
    json::append_quoted(body, name + " " + emoji);
    body += R"(,"Text__c":)";
    json::append_quoted(body, emoji);
    body += R"(,"LongTextArea__c":)";
    json::append_quoted(body, long_text());
    return body + "}]";
}

} // namespace

TEST_CASE("emoji and a 131072-character long text area round-trip exactly",
          "[bridge][bad_values]") {
    const std::string schema_file = long_text_schema();
    harness h([&](sim::simulator_config& c) { c.schema_files.push_back(schema_file); });
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            const auto loaded = co_await sim_create(h, "Long_Text__c", long_record("Loaded"));
            auto cfg =
                h.config(mapping_json("Long_Text__c", "Id,Name,Text__c,LongTextArea__c", true));
            cfg.bulk_threshold = 1; // loaded through Bulk CSV
            cfg.poll_interval = std::chrono::seconds(600);
            co_await h.start(cfg);
            bool ok = co_await polled(h, 1); // the first poll, at once after the load
            REQUIRE(ok);
            const auto streamed = co_await sim_create(h, "Long_Text__c", long_record("Streamed"));
            // Named: GCC 12 mishandles braced temporaries that live across a co_await.
            const std::vector<std::pair<std::string, std::string>> records{
                {loaded[0], "Loaded"}, {streamed[0], "Streamed"}};
            for (const auto& [id, name] : records) {
                INFO(name);
                const std::string table = h.schema + ".long_text__c";
                ok = co_await becomes(c, "SELECT name FROM " + table + " WHERE sfid = '" + id + "'",
                                      name + " " + emoji);
                CHECK(ok);
                auto r = co_await must_query(c, "SELECT text__c, longtextarea__c, "
                                                "char_length(longtextarea__c) FROM " +
                                                    table + " WHERE sfid = '" + id + "'");
                REQUIRE(r.rows() == 1);
                CHECK(r.value(0, 0) == emoji);
                CHECK(r.value(0, 2) == "131072");
                CHECK(r.value(0, 1) == long_text());
            }
            auto errors =
                co_await must_query(c, "SELECT count(*) FROM " + h.schema + "._sfbridge_errors");
            CHECK(errors.value(0, 0) == "0");
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("a Bulk load of long text rows over the HTTP body limit is read in smaller pages",
          "[bridge][bad_values]") {
    const std::string schema_file = long_text_schema();
    harness h([&](sim::simulator_config& c) { c.schema_files.push_back(schema_file); });
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            // 560 rows of 131,072 characters: about 74 MB of CSV, over the client's 64 MiB
            // body limit in the 10,000-record pages a load starts with.
            constexpr int rows = 560, per_request = 40;
            for (int made = 0; made < rows; made += per_request) {
                std::string body;
                for (int i = 0; i < per_request; ++i) {
                    const std::string one = long_record("Row " + std::to_string(made + i));
                    body += (i == 0 ? "[" : ",") + one.substr(1, one.size() - 2);
                }
                (void)co_await sim_create(h, "Long_Text__c", body + "]");
            }
            auto cfg = h.config(mapping_json("Long_Text__c", "Id,Name,LongTextArea__c", false));
            cfg.bulk_threshold = 1;
            co_await h.start(cfg);
            const bool ok =
                co_await becomes(c,
                                 "SELECT count(*) FROM " + h.schema +
                                     ".long_text__c WHERE char_length(longtextarea__c) = 131072",
                                 std::to_string(rows), 240);
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(400));
}

namespace {
// A check constraint and an app trigger that RAISEs, each refusing one LastName.
std::string refusing_table(const harness& h) {
    const std::string t = h.schema + ".contact";
    return "ALTER TABLE " + t +
           " ADD CONSTRAINT app_check CHECK (lastname IS DISTINCT FROM 'Refused by check'); "
           "CREATE FUNCTION " +
           h.schema +
           ".app_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.lastname = "
           "'Refused by trigger' THEN RAISE EXCEPTION 'the app refuses %', NEW.lastname; END "
           "IF; RETURN NEW; END $$; CREATE TRIGGER app_refuse BEFORE INSERT OR UPDATE ON " +
           t + " FOR EACH ROW EXECUTE FUNCTION " + h.schema + ".app_refuse()";
}
} // namespace

TEST_CASE("rows Postgres refuses in a stream batch fail alone and the others arrive",
          "[bridge][bad_values]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            cfg.poll_interval = std::chrono::seconds(600); // after the first poll: streaming only
            co_await h.start(cfg);
            bool ok = co_await polled(h, 1); // the first poll, at once after the load
            REQUIRE(ok);
            co_await must_exec(c, refusing_table(h));
            // One request: six events published together, read as one batch.
            const auto ids = co_await sim_create(
                h, "Contact",
                R"([{"LastName":"Good 1"},{"LastName":"Refused by check"},{"LastName":"Good 2"},)"
                R"({"LastName":"Refused by trigger"},{"LastName":"Good 3"},{"LastName":"Good 4"}])");
            const std::vector<std::pair<std::size_t, std::string>> good{
                {0, "Good 1"}, {2, "Good 2"}, {4, "Good 3"}, {5, "Good 4"}};
            for (const auto& [i, name] : good) {
                ok = co_await becomes(c, lastname_of(h, ids[i]), name);
                CHECK(ok);
            }
            const auto after = co_await sim_create(h, "Contact", R"([{"LastName":"After"}])");
            ok = co_await becomes(c, lastname_of(h, after[0]), "After");
            CHECK(ok);
            auto check = co_await errors_of(h, c, ids[1]);
            REQUIRE(check.size() == 1);
            CHECK_THAT(check[0], Catch::StartsWith("/topic/hc_Contact|Postgres refused"));
            CHECK_THAT(check[0], Catch::Contains("(SQLSTATE 23514)"));
            CHECK_THAT(check[0], Catch::Contains("app_check"));
            auto raised = co_await errors_of(h, c, ids[3]);
            REQUIRE(raised.size() == 1);
            CHECK_THAT(raised[0], Catch::Contains("(SQLSTATE P0001): the app refuses"));
            auto left_out = co_await value_of(c, "SELECT count(*) FROM " + h.schema +
                                                     ".contact WHERE lastname LIKE 'Refused%'");
            CHECK(left_out == "0");
            CHECK(h.running);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("polling records a row Postgres refuses once and moves past it", "[bridge][bad_values]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            co_await h.start(h.config(mapping_json("Contact", "Id,LastName", false)));
            bool ok = co_await polled(h, 1); // loaded: what comes now comes by polling
            REQUIRE(ok);
            co_await must_exec(c, refusing_table(h));
            const auto ids = co_await sim_create(
                h, "Contact", R"([{"LastName":"Refused by check"},{"LastName":"Good"}])");
            ok = co_await becomes(c, lastname_of(h, ids[1]), "Good");
            CHECK(ok);
            const std::string state = h.schema + "._sfbridge_state";
            const std::string before = co_await value_of(c, "SELECT poll_high_water FROM " + state);
            const auto later = co_await sim_create(h, "Contact", R"([{"LastName":"Later"}])");
            ok = co_await becomes(c, lastname_of(h, later[0]), "Later");
            CHECK(ok);
            ok = co_await polls_pass(h, 4); // overlapping polls meet the refused record again
            CHECK(ok);
            const std::string moved =
                co_await value_of(c, "SELECT poll_high_water > '" + before + "' FROM " + state);
            CHECK(moved == "t"); // the high-water mark moves on
            auto refused = co_await errors_of(h, c, ids[0]);
            REQUIRE(refused.size() == 1);
            CHECK_THAT(refused[0], Catch::StartsWith("poll|Postgres refused the version of "));
            CHECK(h.running);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("records Postgres refused go in once the app lets them and their errors are resolved",
          "[bridge][bad_values]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            cfg.refused_retry = std::chrono::milliseconds(300);
            co_await h.start(cfg);
            bool ok = co_await polled(h, 1);
            REQUIRE(ok);
            co_await must_exec(c, refusing_table(h));
            const auto ids = co_await sim_create(
                h, "Contact",
                R"([{"LastName":"Refused by check"},{"LastName":"Refused by trigger"}])");
            const std::string errors = h.schema + "._sfbridge_errors";
            const std::string open_retries = "SELECT count(DISTINCT sfid) FROM " + errors +
                                             " WHERE retry AND resolved_at IS NULL";
            ok = co_await becomes(c, open_retries, "2");
            REQUIRE(ok);
            // Fetched again while still refused: the same version is not recorded twice.
            ok = co_await polls_pass(h, 4);
            CHECK(ok);
            auto refused = co_await errors_of(h, c, ids[0]);
            CHECK(refused.size() == 1);
            // The app drops its check and its trigger: both records arrive, without a change
            // in Salesforce, and their errors are marked resolved.
            co_await must_exec(c, "ALTER TABLE " + h.schema +
                                      ".contact DROP CONSTRAINT app_check; DROP TRIGGER "
                                      "app_refuse ON " +
                                      h.schema + ".contact");
            ok = co_await becomes(c, lastname_of(h, ids[0]), "Refused by check");
            CHECK(ok);
            ok = co_await becomes(c, lastname_of(h, ids[1]), "Refused by trigger");
            CHECK(ok);
            ok = co_await becomes(c, open_retries, "0");
            CHECK(ok);
            const auto resolved = co_await value_of(c, "SELECT count(*) FROM " + errors +
                                                           " WHERE resolved_at IS NOT NULL");
            CHECK(resolved == "2");
            CHECK(h.running);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("a statement timeout is retried and is not a data error", "[bridge][bad_values]") {
    harness h;
    log_capture logs;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor()), holder(h.f.io.get_executor());
            co_await must_connect(c);
            co_await must_connect(holder);
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            cfg.database_url = pg_dsn_with("options='-c statement_timeout=1000'");
            cfg.poll_interval = std::chrono::seconds(600);
            co_await h.start(cfg);
            bool ok = co_await polled(h, 1); // the first poll, at once after the load
            REQUIRE(ok);
            // A lock the stream's merge waits on past its statement_timeout (57014), until the
            // log shows the write retried.
            co_await must_exec(holder, "BEGIN; LOCK TABLE " + h.schema +
                                           ".contact IN ACCESS EXCLUSIVE MODE");
            const auto waits = co_await sim_create(h, "Contact", R"([{"LastName":"Waited"}])");
            bool retried = false;
            for (int i = 0; i < 600 && !retried; ++i) {
                retried = logs.text.find("write failed, retrying") != std::string::npos &&
                          logs.text.find("57014") != std::string::npos;
                if (!retried)
                    co_await sleep_ms(100);
            }
            CHECK(retried);
            co_await must_exec(holder, "COMMIT");
            ok = co_await becomes(c, lastname_of(h, waits[0]), "Waited");
            CHECK(ok);
            auto errors =
                co_await value_of(c, "SELECT count(*) FROM " + h.schema + "._sfbridge_errors");
            CHECK(errors == "0");
            CHECK(h.running);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("a statement timeout on the mapping's lock is rolled back before the retry",
          "[bridge][bad_values]") {
    harness h;
    log_capture logs;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor()), holder(h.f.io.get_executor());
            co_await must_connect(c);
            co_await must_connect(holder);
            auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            cfg.database_url = pg_dsn_with("options='-c statement_timeout=1000'");
            cfg.poll_interval = std::chrono::seconds(600);
            co_await h.start(cfg);
            bool ok = co_await polled(h, 1);
            REQUIRE(ok);
            // The mapping's lock held elsewhere: "BEGIN; SELECT pg_advisory_xact_lock(...)" of
            // a large batch times out after its BEGIN ran (found by the chaos campaign: every
            // retry then failed with 25P02 on the aborted transaction).
            co_await must_exec(holder,
                               "BEGIN; SELECT pg_advisory_xact_lock(" +
                                   bridge::state_sql::mapping_lock_key(h.schema, "Contact") + ")");
            std::string body = "[";
            for (int i = 0; i < 200; ++i)
                body += std::string(i ? "," : "") + R"({"LastName":"Locked )" + std::to_string(i) +
                        "\"}";
            (void)co_await sim_create(h, "Contact", body + "]");
            bool retried = false;
            for (int i = 0; i < 600 && !retried; ++i) {
                retried = logs.text.find("57014") != std::string::npos;
                if (!retried)
                    co_await sleep_ms(100);
            }
            CHECK(retried);
            co_await must_exec(holder, "COMMIT");
            ok = co_await becomes(
                c, "SELECT count(*) FROM " + h.schema + ".contact WHERE lastname LIKE 'Locked %'",
                "200");
            CHECK(ok);
            CHECK(h.running);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}

TEST_CASE("a column narrower than its Salesforce field is widened at start",
          "[bridge][bad_values]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            const auto cfg = h.config(mapping_json("Contact", "Id,LastName", true));
            co_await h.start(cfg);
            co_await h.stop();
            // The column as an older definition of the field left it: 20 characters.
            const std::string t = h.schema + ".contact";
            co_await must_exec(c, "ALTER TABLE " + t + " ALTER COLUMN lastname TYPE varchar(20)");
            co_await h.start(cfg);
            auto type = co_await must_query(
                c, "SELECT character_maximum_length FROM information_schema.columns WHERE "
                   "table_schema = '" +
                       h.schema + "' AND table_name = 'contact' AND column_name = 'lastname'");
            CHECK(type.value(0, 0) == "80");
            const std::string name = "A last name longer than twenty characters";
            const auto ids = co_await sim_create(h, "Contact", R"([{"LastName":")" + name + "\"}]");
            const bool ok = co_await becomes(c, lastname_of(h, ids[0]), name);
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}

TEST_CASE("a value longer than its column while running widens the column and arrives",
          "[bridge][bad_values]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection c(h.f.io.get_executor());
            co_await must_connect(c);
            co_await h.start(h.config(mapping_json("Contact", "Id,LastName", true)));
            bool ok = co_await polled(h, 1);
            REQUIRE(ok);
            // The field grew in Salesforce after sfbridge read its describe (80 characters
            // now; the column, as an older describe made it, 20).
            const std::string t = h.schema + ".contact";
            co_await must_exec(c, "ALTER TABLE " + t + " ALTER COLUMN lastname TYPE varchar(20)");
            const std::string name = "A last name longer than twenty characters";
            const auto ids = co_await sim_create(h, "Contact", R"([{"LastName":")" + name + "\"}]");
            ok = co_await becomes(c, lastname_of(h, ids[0]), name);
            CHECK(ok);
            auto errors = co_await errors_of(h, c, ids[0]);
            CHECK(errors.empty());
            co_await h.stop();
        }(),
        std::chrono::seconds(120));
}
