// The REST API's query and queryAll (with paging by query locator), the updated/ and deleted/
// replication resources, and /limits.
#include "core/json_writer.hpp"
#include "sim/ids.hpp"
#include "sim/record_json.hpp"
#include "sim/rest.hpp"
#include "sim/rest_util.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>

namespace sfbridge::sim {

namespace {

constexpr std::size_t max_cursors = 1000;

// The start and end of the updated/ and deleted/ resources; the error response when missing.
std::optional<response> replication_window(std::string_view query_string, std::int64_t& start,
                                           std::int64_t& end) {
    const auto qs = parse_form(query_string);
    auto s = qs.find("start"), e = qs.find("end");
    if (s == qs.end() || e == qs.end() || !parse_datetime(s->second, start) ||
        !parse_datetime(e->second, end))
        return rest_error(http::status::bad_request, "INVALID_REPLICATION_DATE",
                          "start and end must be valid dateTimes");
    return std::nullopt;
}

} // namespace

response rest_api::query(const request& req, std::string_view version,
                         std::string_view query_string, bool all) {
    const auto qs = parse_form(query_string);
    auto q = qs.find("q");
    if (q == qs.end() || q->second.empty())
        return rest_error(http::status::bad_request, "MALFORMED_QUERY",
                          "A query string has to be specified");
    soql::query parsed;
    soql::error perr;
    if (!soql::parse(q->second, data_.objects(), parsed, perr))
        return rest_error(http::status::bad_request, perr.code, perr.message);
    std::vector<const record*> rows;
    for (const auto& r : data_.records(*parsed.object))
        if ((all || !r->deleted) && soql::matches(parsed, *r))
            rows.push_back(r.get());
    soql::sort(parsed, rows);
    const std::size_t offset = static_cast<std::size_t>(parsed.offset.value_or(0));
    rows.erase(rows.begin(), rows.begin() + static_cast<long>(std::min(offset, rows.size())));
    if (parsed.limit && rows.size() > static_cast<std::size_t>(*parsed.limit))
        rows.resize(static_cast<std::size_t>(*parsed.limit));
    if (parsed.count_only) {
        std::string body;
        json::writer w(body);
        w.begin_object()
            .member("totalSize", static_cast<std::int64_t>(rows.size()))
            .member("done", true)
            .key("records")
            .begin_array()
            .end_array()
            .end_object();
        return json_response(http::status::ok, std::move(body));
    }
    // Sforce-Query-Options: batchSize=N, between 200 and 2000 (default 2000).
    std::size_t batch = 2000;
    if (auto it = req.find("Sforce-Query-Options"); it != req.end()) {
        const std::string_view v = it->value();
        const auto pos = v.find("batchSize=");
        if (pos != std::string_view::npos) {
            std::size_t n = 0;
            const auto start = v.data() + pos + 10;
            std::from_chars(start, v.data() + v.size(), n);
            batch = std::clamp<std::size_t>(n, 200, 2000);
        }
    }
    cursor c{parsed.object, parsed.fields, std::move(rows), batch, {}};
    // A locator looks like Salesforce's: a query-locator id and an offset.
    c.id = ids::make("01g", ++cursor_seq_);
    if (c.rows.size() <= batch)
        return page(c, 0, version);
    const std::string key = c.id;
    auto [it, inserted] = cursors_.emplace(key, std::move(c));
    cursor_order_.push_back(key);
    while (cursor_order_.size() > max_cursors) {
        cursors_.erase(cursor_order_.front());
        cursor_order_.pop_front();
    }
    return page(it->second, 0, version);
}

response rest_api::query_more(std::string_view version, const std::string& locator) {
    const auto dash = locator.rfind('-');
    std::size_t offset = 0;
    if (dash == std::string::npos ||
        std::from_chars(locator.data() + dash + 1, locator.data() + locator.size(), offset).ec !=
            std::errc{})
        return rest_error(http::status::bad_request, "INVALID_QUERY_LOCATOR",
                          "invalid query locator");
    auto it = cursors_.find(locator.substr(0, dash));
    if (it == cursors_.end())
        return rest_error(http::status::bad_request, "INVALID_QUERY_LOCATOR",
                          "invalid query locator");
    return page(it->second, offset, version);
}

response rest_api::page(cursor& c, std::size_t offset, std::string_view version) {
    const std::size_t end = std::min(c.rows.size(), offset + c.batch);
    std::string body;
    body.reserve((end - offset) * 256 + 128);
    json::writer w(body);
    w.begin_object();
    w.member("totalSize", static_cast<std::int64_t>(c.rows.size()));
    w.member("done", end >= c.rows.size());
    if (end < c.rows.size())
        w.member("nextRecordsUrl", "/services/data/v" + std::string(version) + "/query/" + c.id +
                                       "-" + std::to_string(end));
    w.key("records").begin_array();
    for (std::size_t i = offset; i < end; ++i)
        write_record(w, *c.object, *c.rows[i], c.fields, version);
    w.end_array().end_object();
    if (end >= c.rows.size())
        cursors_.erase(c.id); // Salesforce drops a locator once read to the end
    return json_response(http::status::ok, std::move(body));
}

response rest_api::updated(const object_def& o, std::string_view query_string) {
    std::int64_t start = 0, end = 0;
    if (auto error = replication_window(query_string, start, end))
        return std::move(*error);
    const std::string from = format_datetime(start), to = format_datetime(end);
    const int stamp = o.index_of("SystemModstamp");
    std::string body;
    json::writer w(body);
    w.begin_object().key("ids").begin_array();
    for (const auto& r : data_.records(o)) {
        if (r->deleted)
            continue;
        const auto& v = std::get<std::string>(r->get(stamp));
        if (v >= from && v <= to)
            w.string(r->id);
    }
    w.end_array().member("latestDateCovered", rest_datetime(to)).end_object();
    return json_response(http::status::ok, std::move(body));
}

response rest_api::deleted(const object_def& o, std::string_view query_string) {
    std::int64_t start = 0, end = 0;
    if (auto error = replication_window(query_string, start, end))
        return std::move(*error);
    std::string body;
    json::writer w(body);
    w.begin_object().key("deletedRecords").begin_array();
    std::int64_t earliest = end;
    for (const auto& d : data_.deletions(o)) {
        earliest = std::min(earliest, d.deleted_ms);
        if (d.deleted_ms >= start && d.deleted_ms <= end)
            w.begin_object()
                .member("id", d.id)
                .member("deletedDate", rest_datetime(format_datetime(d.deleted_ms)))
                .end_object();
    }
    w.end_array();
    w.member("earliestDateAvailable", rest_datetime(format_datetime(earliest)));
    w.member("latestDateCovered", rest_datetime(format_datetime(end)));
    w.end_object();
    return json_response(http::status::ok, std::move(body));
}

response rest_api::limits() {
    std::string body;
    json::writer w(body);
    auto limit = [&](const char* name, std::int64_t max, std::int64_t remaining) {
        if (auto it = data_.limit_overrides().find(name); it != data_.limit_overrides().end())
            std::tie(max, remaining) = it->second;
        w.key(name).begin_object().member("Max", max).member("Remaining", remaining).end_object();
    };
    w.begin_object();
    limit("DailyApiRequests", usage_.max, std::max<std::int64_t>(0, usage_.max - usage_.used));
    limit("DailyBulkV2QueryJobs", 10000, 10000);
    limit("DailyBulkV2QueryFileStorageMB", 976562, 976562);
    limit("DailyDeliveredPlatformEvents", 50000, 50000);
    limit("DailyDurableStreamingApiEvents", 1000000, 1000000);
    limit("DailyStreamingApiEvents", 1000000, 1000000);
    limit("StreamingApiConcurrentClients", 2000, 2000);
    w.end_object();
    return json_response(http::status::ok, std::move(body));
}

} // namespace sfbridge::sim
