#include "salesforce/bulk_query.hpp"

#include "core/backoff.hpp"
#include "core/json_writer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <simdjson.h>

#include <exception>
#include <utility>

namespace sfbridge::salesforce {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
struct job_status {
    std::string id;
    std::string state;
    std::string error_message;
};

bool read_job(std::string_view body, job_status& out) {
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(body);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object o;
    if (parser.iterate(padded).get(doc) || doc.get_object().get(o))
        return false;
    for (auto m : o) {
        std::string_view key, v;
        if (m.unescaped_key().get(key))
            return false;
        if (m.value().get_string().get(v))
            continue;
        if (key == "id")
            out.id = v;
        else if (key == "state")
            out.state = v;
        else if (key == "errorMessage")
            out.error_message = v;
    }
    return !out.id.empty() && !out.state.empty();
}
} // namespace

asio::awaitable<error_code> bulk_query(rest_client& rest, std::string soql,
                                       const bulk_query_options& opts,
                                       const bulk_page_handler& on_page, bulk_query_stats& stats,
                                       diagnostics& diag) {
    std::string body;
    json::writer w(body);
    w.begin_object()
        .member("operation", opts.include_deleted ? "queryAll" : "query")
        .member("query", soql)
        .member("contentType", "CSV")
        .member("columnDelimiter", "COMMA")
        .member("lineEnding", "LF")
        .end_object();
    rest_response r;
    auto ec = co_await rest.async_call(net::http::verb::post, rest.data_path("/jobs/query"),
                                       std::move(body), r, diag, opts.call);
    if (ec)
        co_return ec;
    job_status job;
    if (!read_job(r.body, job)) {
        diag.client_message = "the Bulk API answered the job creation with no job";
        co_return errc::bad_response;
    }
    stats.job_id = job.id;
    const std::string job_path = rest.data_path("/jobs/query/" + job.id);

    // Poll until the job completes, backing off to poll_max (core's backoff, no jitter: one
    // caller per job).
    const auto deadline = std::chrono::steady_clock::now() + opts.timeout;
    const backoff_policy polls{opts.poll_initial, opts.poll_max, 2.0, 0.0};
    int poll = 0;
    while (job.state != "JobComplete") {
        if (job.state == "Failed" || job.state == "Aborted") {
            diag.client_message = "Bulk API job " + job.id + " ended " + job.state;
            diag.message = job.error_message;
            co_return errc::job_failed;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            diag.client_message = "Bulk API job " + job.id + " did not complete in time";
            co_return errc::unavailable;
        }
        const auto delay = backoff_delay(polls, ++poll, 0.5);
        asio::steady_timer t(co_await asio::this_coro::executor, delay);
        error_code wait_ec;
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
        ec = co_await rest.async_call(net::http::verb::get, job_path, "", r, diag, opts.call);
        if (ec)
            co_return ec;
        ++stats.polls;
        job = job_status{};
        if (!read_job(r.body, job)) {
            diag.client_message = "the Bulk API's job status is unreadable";
            co_return errc::bad_response;
        }
    }

    // Results, a page at a time. The next page is fetched while the caller writes this one,
    // so Salesforce's time to produce a page overlaps with the database's time to take it (two
    // pages in memory at most: the one being written and the next one's text).
    std::vector<std::string> columns;
    call_options co = opts.call;
    co.accept = "text/csv";
    std::size_t page_size = opts.max_records_per_page;
    // One page from `locator`. A page over the HTTP client's body limit (rows of long text
    // areas: 10,000 of them can be gigabytes) is asked for again a quarter the size, and the
    // later pages keep the smaller size.
    auto fetch_page = [&](std::string locator, rest_response& out,
                          diagnostics& d) -> asio::awaitable<error_code> {
        for (;;) {
            std::string target = job_path + "/results?maxRecords=" + std::to_string(page_size);
            if (!locator.empty())
                target += "&locator=" + form_encode(locator);
            auto e =
                co_await rest.async_call(net::http::verb::get, std::move(target), "", out, d, co);
            if (e != net::errc::body_too_large || page_size == 1)
                co_return e;
            page_size = std::max<std::size_t>(1, page_size / 4);
            ++stats.smaller_pages;
        }
    };
    ec = co_await fetch_page("", r, diag);
    if (ec)
        co_return ec;
    // The prefetch: its own response and diagnostics; `fetched` wakes the waiter.
    rest_response next_r;
    diagnostics next_diag;
    error_code next_ec;
    std::exception_ptr next_thrown; // rethrown by the waiter: a prefetch never fails unseen
    bool fetching = false;
    asio::steady_timer fetched(co_await asio::this_coro::executor);
    fetched.expires_at(asio::steady_timer::time_point::max());
    // Named in this frame, which outlives every prefetch (each is awaited before returning).
    auto prefetch = [&](std::string locator) -> asio::awaitable<void> {
        next_ec = co_await fetch_page(std::move(locator), next_r, next_diag);
        fetching = false;
        fetched.cancel();
    };
    auto wait_prefetch = [&]() -> asio::awaitable<void> {
        while (fetching) {
            error_code ignore;
            co_await fetched.async_wait(asio::redirect_error(asio::use_awaitable, ignore));
        }
        if (next_thrown)
            std::rethrow_exception(std::exchange(next_thrown, nullptr));
    };
    csv_rows rows; // reused: its buffers keep their capacity from page to page
    while (true) {
        // The next page is asked for before this one is parsed.
        auto next = r.headers.find("Sforce-Locator");
        const bool last =
            next == r.headers.end() || next->value() == "null" || next->value().empty();
        if (!last) {
            fetching = true;
            next_ec = {};
            std::string locator(next->value());
            asio::co_spawn(co_await asio::this_coro::executor, prefetch(std::move(locator)),
                           [&](std::exception_ptr e) {
                               if (!e)
                                   return;
                               next_thrown = e;
                               fetching = false;
                               fetched.cancel();
                           });
        }
        csv_reader reader;
        rows.clear();
        if (!reader.feed(r.body, rows) || !reader.finish(rows)) {
            diag.client_message = "Bulk API job " + job.id + " results: " + reader.error();
            co_await wait_prefetch(); // it refers to this frame
            co_return errc::bad_response;
        }
        r.body.clear();
        r.body.shrink_to_fit(); // the page's text is no longer needed
        if (!rows.empty()) {    // every page starts with the header
            if (columns.empty())
                for (std::size_t i = 0; i < rows.width(0); ++i)
                    columns.emplace_back(rows.field(0, i));
            rows.drop_front(1);
        }
        for (std::size_t i = 0; i < rows.size(); ++i)
            if (rows.width(i) != columns.size()) {
                diag.client_message = "Bulk API job " + job.id + " results: a row has " +
                                      std::to_string(rows.width(i)) + " fields, the header " +
                                      std::to_string(columns.size());
                co_await wait_prefetch();
                co_return errc::bad_response;
            }
        ++stats.pages;
        stats.rows += rows.size();
        if (!rows.empty()) {
            ec = co_await on_page(columns, rows);
            if (ec) {
                co_await wait_prefetch(); // it refers to this frame
                co_return ec;
            }
        }
        if (last)
            co_return error_code{};
        co_await wait_prefetch();
        if (next_ec) {
            diag = std::move(next_diag);
            co_return next_ec;
        }
        r = std::move(next_r);
        next_r = rest_response{};
    }
}

} // namespace sfbridge::salesforce
