// "sfbridge_filter" (issue 20): only the records matching a SOQL condition are synced. A record
// an update moves out of the filter leaves the table, and one moved back in arrives whole: by
// the PushTopic stream, by Change Data Capture, and by polling alone (Bulk API changes raise no
// event). An app's new row outside the filter is refused, and nothing is sent for it.
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {
enum class path { push_topic, cdc, polling };

std::string filtered_mapping(path p, bool read_write_mapping) {
    std::string json = mapping_json("Contact", "Id,LastName,Department", true);
    if (read_write_mapping)
        json = read_write(json);
    const std::string key = R"("sf_polling_seconds":600)";
    std::string options = R"x(,"sfbridge_filter":"Department IN ('Sales', 'Support')")x";
    if (p == path::cdc)
        options += R"(,"sfbridge_stream":"cdc")";
    json.replace(json.find(key), key.size(), key + options);
    return json;
}

// "LastName|Department" of record `id`'s row, or "none".
std::string row_of(const harness& h, const std::string& id) {
    return "SELECT coalesce((SELECT lastname || '|' || coalesce(department, 'null') FROM " +
           h.schema + ".contact WHERE sfid = '" + id + "'), 'none')";
}

asio::awaitable<void> set_department(harness& h, const std::string& id, const std::string& dept,
                                     bool bulk) {
    co_await h.send(http::verb::patch,
                    std::string("/__sim/records/Contact") + (bulk ? "?bulk=true" : ""),
                    R"([{"Id":")" + id + R"(","Department":")" + dept + R"("}])");
}

// Records in and out of the filter; updates move them out and back in, a create lands in or
// not; the table follows by the path given (the polling path's changes are Bulk API ones).
asio::awaitable<void> records_move(harness& h, path p) {
    pg::connection c(h.f.io.get_executor());
    co_await must_connect(c);
    auto ids = co_await sim_create(h, "Contact",
                                   R"([{"LastName":"A","Department":"Sales"},)"
                                   R"({"LastName":"B","Department":"Marketing"},)"
                                   R"({"LastName":"C","Department":"Support"}])");
    REQUIRE(ids.size() == 3);
    auto cfg = h.config(filtered_mapping(p, false));
    // The streaming paths must do it alone; the polling path polls every second.
    cfg.poll_interval = std::chrono::seconds(p == path::polling ? 1 : 600);
    co_await h.start(cfg);
    REQUIRE(h.engine->resolved()[0].options.filter);
    bool ok = co_await eventually(c, row_of(h, ids[0]), "A|Sales", 60);
    REQUIRE(ok);
    ok = co_await eventually(c, row_of(h, ids[2]), "C|Support", 60);
    REQUIRE(ok);
    auto rows = co_await must_query(c, "SELECT count(*) FROM " + h.schema + ".contact");
    CHECK(rows.value(0, 0) == "2"); // B was never loaded

    const bool bulk = p == path::polling;
    // A leaves the filter; B enters it, arriving whole (its LastName too).
    co_await set_department(h, ids[0], "Marketing", bulk);
    co_await set_department(h, ids[1], "Support", bulk);
    ok = co_await eventually(c, row_of(h, ids[0]), "none", 60);
    CHECK(ok);
    ok = co_await eventually(c, row_of(h, ids[1]), "B|Support", 60);
    CHECK(ok);
    // A comes back; a change inside the filter is an ordinary update.
    co_await set_department(h, ids[0], "Support", bulk);
    co_await set_department(h, ids[2], "Sales", bulk);
    ok = co_await eventually(c, row_of(h, ids[0]), "A|Support", 60);
    CHECK(ok);
    ok = co_await eventually(c, row_of(h, ids[2]), "C|Sales", 60);
    CHECK(ok);
    // New records: one inside, one outside.
    auto made = co_await sim_create(
        h, "Contact",
        R"([{"LastName":"D","Department":"Sales"},{"LastName":"E","Department":"Legal"}])", bulk);
    REQUIRE(made.size() == 2);
    ok = co_await eventually(c, row_of(h, made[0]), "D|Sales", 60);
    CHECK(ok);
    // A change made after E's creation, once in, shows that E's turn has passed.
    co_await set_department(h, ids[2], "Support", bulk);
    ok = co_await eventually(c, row_of(h, ids[2]), "C|Support", 60);
    CHECK(ok);
    auto e = co_await must_query(c, row_of(h, made[1]));
    CHECK(e.value(0, 0) == "none");
    rows = co_await must_query(c, "SELECT count(*) FROM " + h.schema + ".contact");
    CHECK(rows.value(0, 0) == "4"); // A, B, C, D
    auto errors = co_await must_query(c, "SELECT count(*) FROM " + h.schema + "._sfbridge_errors");
    CHECK(errors.value(0, 0) == "0");
    co_await h.stop();
}
} // namespace

TEST_CASE("a row filter follows records out of and back into it by the PushTopic stream",
          "[bridge][sync][row_filter]") {
    harness h;
    run(h.f.io, records_move(h, path::push_topic), std::chrono::seconds(180));
}

TEST_CASE("a row filter follows records out of and back into it by Change Data Capture",
          "[bridge][sync][row_filter]") {
    harness h;
    run(h.f.io, records_move(h, path::cdc), std::chrono::seconds(180));
}

TEST_CASE("a row filter follows records out of and back into it by polling alone",
          "[bridge][sync][row_filter]") {
    harness h;
    run(h.f.io, records_move(h, path::polling), std::chrono::seconds(180));
}

TEST_CASE("an app's new row outside the row filter is refused and nothing is sent, one inside "
          "is written, and an update that moves a row out is sent and the row leaves",
          "[bridge][writeback][row_filter]") {
    harness h;
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            auto cfg = h.config(filtered_mapping(path::push_topic, true));
            cfg.poll_interval = std::chrono::seconds(600);
            co_await h.start(cfg);
            const std::string t = h.schema + ".contact";
            const std::string log = h.schema + "._trigger_log";
            co_await must_exec(app, "INSERT INTO " + t +
                                        " (lastname, department) VALUES ('Outside', 'Legal'), "
                                        "('Inside', 'Sales')");
            const std::string outcome =
                "SELECT coalesce((SELECT _hc_lastop || '|' || (_hc_err LIKE "
                "'%SFBRIDGE_OUTSIDE_FILTER%sfbridge_filter%')::text FROM " +
                t + " WHERE lastname = 'Outside'), 'none')";
            bool ok = co_await eventually(app, outcome, "FAILED|true", 60);
            CHECK(ok);
            ok = co_await eventually(
                app, "SELECT (sfid IS NOT NULL)::text FROM " + t + " WHERE lastname = 'Inside'",
                "true", 60);
            CHECK(ok);
            const std::vector<std::string> fields{"LastName", "Department"};
            auto records = co_await sim_rows(h, "Contact", fields);
            REQUIRE(records.size() == 1); // only Inside was made
            CHECK(records.begin()->second == "LastName=Inside|Department=Sales|");

            // The app moves Inside out of the filter: Salesforce gets it, the row goes.
            const std::string id = records.begin()->first;
            co_await must_exec(app, "UPDATE " + t + " SET department = 'Legal' WHERE sfid = '" +
                                        id + "'");
            const auto rec = co_await sim_record_becomes(h, "Contact", fields, id,
                                                         "LastName=Inside|Department=Legal|");
            CHECK(rec == "LastName=Inside|Department=Legal|");
            ok = co_await eventually(app, row_of(h, id), "none", 60);
            CHECK(ok);
            // Nothing refused but the outside row; its failure is in the trigger log too.
            auto states =
                co_await must_query(app, "SELECT string_agg(state, ',' ORDER BY id) FROM " + log);
            CHECK(states.value(0, 0) == "FAILED,SUCCESS,SUCCESS");
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}
