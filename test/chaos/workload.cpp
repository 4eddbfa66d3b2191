#include "test/chaos/workload.hpp"

#include "core/json_writer.hpp"
#include "core/lifecycle.hpp"
#include "test/chaos/util.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cctype>

namespace sfbridge::chaos {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

long long now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Short values both sides write: quotes, backslashes, SQL, emoji (4-byte UTF-8), CJK.
const std::vector<std::string>& hostile() {
    static const std::vector<std::string> v{"plain",
                                            "O'Brien",
                                            "say \"hi\"",
                                            "back\\slash",
                                            "emoji \xF0\x9F\x98\x80",
                                            "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",
                                            "'; DROP TABLE x; --",
                                            "tab\there",
                                            "100% _like_",
                                            "a,b;c"};
    return v;
}

} // namespace

workload::workload(world& w, std::vector<object_spec> specs, std::string schema, std::uint64_t seed)
    : w_(w), specs_(std::move(specs)), schema_(std::move(schema)), seed_(seed),
      app_rng_(seed * 2 + 1), sf_rng_(seed * 2 + 2) {
    for (const auto& s : specs_)
        ledgers_[s.object];
}

std::string workload::table(const object_spec& s) const {
    return "\"" + schema_ + "\".\"" + s.table + "\"";
}

std::string workload::app_value(std::size_t max_chars) {
    std::string v =
        "a" + std::to_string(++next_marker_) + " " + hostile()[app_rng_() % hostile().size()];
    // Values are short enough for every column they go to (counted in bytes: at most chars).
    if (v.size() > max_chars)
        v.resize(max_chars);
    while (!v.empty() && (static_cast<unsigned char>(v.back()) & 0xC0) == 0x80)
        v.pop_back(); // never cut a character in two
    while (!v.empty() && static_cast<unsigned char>(v.back()) >= 0xC0)
        v.pop_back();
    return v;
}

std::string workload::sf_value(bool long_text) {
    std::string v = "s" + std::to_string(++next_marker_) + " ";
    const auto pick = sf_rng_() % 10;
    if (long_text && pick == 0) {
        // Long text with 4-byte characters: 5,000 to 20,000 characters.
        const std::size_t n = 5000 + sf_rng_() % 15000;
        for (std::size_t i = 0; i < n / 4; ++i)
            v += "ab\xF0\x9F\x8E\x89 ";
    } else if (pick == 1) {
        v += std::string("nul") + '\0' + "inside"; // Postgres text cannot hold it
    } else {
        v += hostile()[sf_rng_() % hostile().size()];
    }
    return v;
}

asio::awaitable<void> workload::run(std::chrono::steady_clock::time_point until) {
    async_flag sf_done(co_await asio::this_coro::executor);
    std::exception_ptr sf_error;
    asio::co_spawn(co_await asio::this_coro::executor, sf_side(until), [&](std::exception_ptr e) {
        sf_error = e;
        sf_done.set();
    });
    co_await app_side(until);
    co_await sf_done.wait();
    if (sf_error)
        std::rethrow_exception(sf_error); // to run()'s caller, once both sides have stopped
}

asio::awaitable<void> workload::app_side(std::chrono::steady_clock::time_point until) {
    pg::connection c(co_await asio::this_coro::executor);
    while (std::chrono::steady_clock::now() < until) {
        if (!c.is_open() && !co_await w_.connect(c)) {
            co_await pause(std::chrono::milliseconds(200)); // Postgres is restarting
            continue;
        }
        co_await app_step(c, specs_[app_rng_() % specs_.size()]);
        co_await pause(std::chrono::milliseconds(5 + static_cast<long>(app_rng_() % 40)));
    }
}

asio::awaitable<std::vector<std::string>> workload::pick_row(pg::connection& c,
                                                             const object_spec& s, bool linked) {
    pg::result r;
    pg::diagnostics d;
    // Not the soak's probe records.
    const std::string marker = "\"" + lower(s.marker) + "\"";
    const std::string sql = "SELECT id::text, coalesce(sfid, ''), coalesce(" + marker +
                            ", '') FROM " + table(s) + " WHERE coalesce(" + marker +
                            ", '') NOT LIKE 'probe-%'" + (linked ? " AND sfid IS NOT NULL" : "") +
                            " ORDER BY random() LIMIT 1";
    if (co_await c.async_query(sql, r, d) || r.rows() == 0)
        co_return std::vector<std::string>{};
    co_return std::vector<std::string>{std::string(r.value(0, 0)), std::string(r.value(0, 1)),
                                       std::string(r.value(0, 2))};
}

asio::awaitable<bool> workload::full(pg::connection& c, const object_spec& s) {
    if (cap_ == 0)
        co_return false;
    auto& [rows, asks] = sizes_[s.object];
    if (asks++ % 50 == 0) {
        pg::result r;
        pg::diagnostics d;
        if (!co_await c.async_query("SELECT count(*) FROM " + table(s), r, d) && r.rows() == 1)
            rows = std::stol(std::string(r.value(0, 0)));
    }
    co_return rows >= static_cast<long>(cap_);
}

asio::awaitable<void> workload::app_step(pg::connection& c, const object_spec& s) {
    auto& led = ledgers_[s.object];
    auto op = app_rng_() % 100;
    if (op < 35 && co_await full(c, s))
        op = 85; // a delete instead
    pg::result r;
    pg::diagnostics d;
    if (op < 35) {
        const std::string marker =
            "app-" + std::to_string(seed_) + "-" + std::to_string(++next_marker_);
        const std::string value = app_value(40), shared = app_value(40);
        const auto ec = co_await c.async_query(
            "INSERT INTO " + table(s) + " (\"" + lower(s.marker) + "\", \"" + lower(s.shared) +
                "\", \"" + lower(s.app_only) + "\") VALUES ($1, $2, $3)",
            pg::params(marker, shared, value), r, d);
        ++counts_.app_inserts;
        if (!ec) {
            led.inserted.insert(marker);
            led.last_value[marker] = value;
            led.last_shared[marker] = {shared, now_ms()};
        } else {
            ++counts_.app_failed;
            led.uncertain.insert(marker); // the COMMIT may have happened
        }
        co_return;
    }
    auto row = co_await pick_row(c, s, op >= 80);
    if (row.empty())
        co_return;
    if (op < 70) { // the app-only field: its last value must win
        const std::string value = app_value(40);
        const auto ec = co_await c.async_query("UPDATE " + table(s) + " SET \"" +
                                                   lower(s.app_only) + "\" = $1 WHERE id = $2",
                                               pg::params(value, row[0]), r, d);
        ++counts_.app_updates;
        if (!ec && r.affected_rows() == 1)
            led.last_value[row[2]] = value;
        else if (ec) {
            ++counts_.app_failed;
            led.last_value.erase(row[2]); // not known whether it committed
        }
    } else if (op < 80) { // the shared field
        co_await update_shared(c, s, row);
        ++counts_.app_updates;
    } else if (op < 88) {
        led.tainted.insert(row[2]);
        (void)co_await c.async_query("DELETE FROM " + table(s) + " WHERE id = $1",
                                     pg::params(row[0]), r, d);
        ++counts_.app_deletes;
    } else { // a real conflict: both sides change the shared field within milliseconds
        std::string body;
        json::writer j(body);
        j.begin_array().begin_object().member("Id", row[1]).member(s.shared, sf_value(false));
        j.end_object().end_array();
        led.sf_shared_at[row[2]] = now_ms();
        try {
            (void)co_await w_.control(http::verb::patch, "/__sim/records/" + s.object, body);
        } catch (const std::exception&) {
        }
        co_await update_shared(c, s, row);
        ++counts_.conflicts;
    }
}

// The app's update of the shared field, kept in the ledger with its time when it committed.
asio::awaitable<void> workload::update_shared(pg::connection& c, const object_spec& s,
                                              const std::vector<std::string>& row) {
    auto& led = ledgers_[s.object];
    const std::string value = app_value(40);
    pg::result r;
    pg::diagnostics d;
    const auto ec = co_await c.async_query("UPDATE " + table(s) + " SET \"" + lower(s.shared) +
                                               "\" = $1 WHERE id = $2",
                                           pg::params(value, row[0]), r, d);
    if (!ec && r.affected_rows() == 1)
        led.last_shared[row[2]] = {value, now_ms()};
    else if (ec)
        led.last_shared.erase(row[2]); // not known whether it committed
}

asio::awaitable<void> workload::sf_side(std::chrono::steady_clock::time_point until) {
    pg::connection c(co_await asio::this_coro::executor);
    while (std::chrono::steady_clock::now() < until) {
        if (!c.is_open() && !co_await w_.connect(c)) {
            co_await pause(std::chrono::milliseconds(200));
            continue;
        }
        try {
            co_await sf_step(c, specs_[sf_rng_() % specs_.size()]);
        } catch (const std::exception&) {
            // A control call that failed (a record deleted meanwhile): the next step goes on.
        }
        co_await pause(std::chrono::milliseconds(5 + static_cast<long>(sf_rng_() % 40)));
    }
}

asio::awaitable<void> workload::sf_step(pg::connection& c, const object_spec& s) {
    auto op = sf_rng_() % 100;
    if (op < 35 && co_await full(c, s))
        op = 85;                          // a delete instead
    const bool bulk = sf_rng_() % 4 == 0; // no event: only polling finds it
    const std::string suffix = bulk ? "?bulk=true" : "";
    if (bulk)
        ++counts_.sf_bulk;
    std::string body;
    json::writer j(body);
    if (op < 35) {
        const std::string marker =
            "sf-" + std::to_string(seed_) + "-" + std::to_string(++next_marker_);
        j.begin_array().begin_object().member(s.marker, marker).member(s.shared, sf_value(false));
        j.member(s.sf_only, sf_value(true)).end_object().end_array();
        (void)co_await w_.control(http::verb::post, "/__sim/records/" + s.object + suffix, body);
        ++counts_.sf_creates;
        co_return;
    }
    if (op >= 90) {
        auto& gone = deleted_[s.object];
        if (gone.empty())
            co_return;
        const std::string id = gone.back();
        gone.pop_back();
        ++counts_.sf_undeletes;
        (void)co_await w_.control(http::verb::post,
                                  "/__sim/records/" + s.object + "/" + id + "/undelete");
        co_return;
    }
    auto row = co_await pick_row(c, s, true);
    if (row.empty())
        co_return;
    if (op < 80) {
        const bool sf_only = op < 60;
        if (!sf_only)
            ledgers_[s.object].sf_shared_at[row[2]] = now_ms();
        j.begin_array().begin_object().member("Id", row[1]);
        j.member(sf_only ? s.sf_only : s.shared, sf_value(sf_only)).end_object().end_array();
        (void)co_await w_.control(http::verb::patch, "/__sim/records/" + s.object + suffix, body);
        ++counts_.sf_updates;
    } else {
        ledgers_[s.object].tainted.insert(row[2]);
        (void)co_await w_.control(http::verb::delete_, "/__sim/records/" + s.object + "?ids=" +
                                                           row[1] + (bulk ? "&bulk=true" : ""));
        deleted_[s.object].push_back(row[1]);
        ++counts_.sf_deletes;
    }
}

} // namespace sfbridge::chaos
