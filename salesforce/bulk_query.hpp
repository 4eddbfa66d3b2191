#pragma once

#include "salesforce/csv_reader.hpp"
#include "salesforce/rest_client.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

// Bulk API 2.0 query jobs: create, poll with backoff until JobComplete, then read the CSV
// results page by page through Sforce-Locator. One page is in memory at a time; rows reach the
// handler as they are parsed, a page at a time. `max_records_per_page` is where the page size
// starts: a page over the HTTP client's body limit is asked for again smaller.
namespace sfbridge::salesforce {

struct bulk_query_options {
    bool include_deleted = false; // operation queryAll
    std::size_t max_records_per_page = 10000;
    std::chrono::milliseconds poll_initial{100};
    std::chrono::milliseconds poll_max{5000};
    std::chrono::milliseconds timeout{std::chrono::hours(2)};
    call_options call;
};

// Called once per results page with the header (column names) and that page's rows (the
// header row not among them; each row as wide as the header). The rows are valid until the
// handler returns. Returning an error stops the job's reading (the error is returned).
using bulk_page_handler = std::function<boost::asio::awaitable<boost::system::error_code>(
    const std::vector<std::string>& columns, const csv_rows& rows)>;

struct bulk_query_stats {
    std::string job_id;
    std::size_t rows = 0;
    std::size_t pages = 0;
    std::size_t polls = 0;
    std::size_t smaller_pages = 0; // pages asked for again smaller (over the body limit)
};

boost::asio::awaitable<boost::system::error_code>
bulk_query(rest_client& rest, std::string soql, const bulk_query_options& opts,
           const bulk_page_handler& on_page, bulk_query_stats& stats, diagnostics& diag);

} // namespace sfbridge::salesforce
