#include "sim/bulk.hpp"

#include "core/json_writer.hpp"
#include "sim/ids.hpp"
#include "sim/record_json.hpp"
#include "sim/soql.hpp"

#include <simdjson.h>

#include <charconv>

namespace sfbridge::sim {
namespace od = simdjson::ondemand;

namespace {

response job_not_found() {
    return rest_error(http::status::not_found, "NOT_FOUND",
                      "The requested resource does not exist");
}

void append_quoted(std::string& out, std::string_view v) {
    // Every value quoted, quotes doubled, as Salesforce writes its result files.
    out.push_back('"');
    for (auto q = v.find('"'); q != std::string_view::npos; q = v.find('"')) {
        out.append(v.substr(0, q + 1)).push_back('"');
        v.remove_prefix(q + 1);
    }
    out.append(v);
    out.push_back('"');
}

// A value's CSV field, written in place: a results page holds millions of values.
void append_value(std::string& out, const value& v) {
    if (const auto* s = std::get_if<std::string>(&v))
        append_quoted(out, *s);
    else if (const auto* b = std::get_if<bool>(&v))
        append_quoted(out, *b ? "true" : "false");
    else if (const auto* d = std::get_if<double>(&v)) {
        out.push_back('"');
        json::append_number(out, *d);
        out.push_back('"');
    }
}

} // namespace

response bulk_api::handle(const request& req, std::string_view version,
                          const std::vector<std::string>& seg, std::string_view query_string) {
    if (seg.empty()) {
        if (req.method() == http::verb::post)
            return create(req, version);
        if (req.method() == http::verb::get) {
            std::string body;
            json::writer w(body);
            w.begin_object().member("done", true).key("records").begin_array();
            for (const auto& [id, j] : jobs_)
                w.begin_object()
                    .member("id", id)
                    .member("operation", j.operation)
                    .member("object", j.object->name)
                    .member("state", j.aborted ? "Aborted" : "JobComplete")
                    .end_object();
            w.end_array().end_object();
            return json_response(http::status::ok, std::move(body));
        }
        return rest_error(http::status::method_not_allowed, "METHOD_NOT_ALLOWED",
                          "HTTP Method not allowed");
    }
    auto it = jobs_.find(seg[0]);
    if (it == jobs_.end())
        return job_not_found();
    job& j = it->second;
    if (seg.size() == 1) {
        if (req.method() == http::verb::get)
            return info(j, true);
        if (req.method() == http::verb::delete_) {
            jobs_.erase(it);
            return empty_response(http::status::no_content);
        }
        if (req.method() == http::verb::patch) {
            j.aborted = true;
            return info(j, false);
        }
    }
    if (seg.size() == 2 && seg[1] == "results" && req.method() == http::verb::get) {
        if (j.version != version)
            return rest_error(http::status::conflict, "INVALIDJOBSTATE",
                              "The API version of the results request must match the version "
                              "used to create the job (" +
                                  j.version + ")");
        return results(j, version, query_string);
    }
    return job_not_found();
}

response bulk_api::create(const request& req, std::string_view version) {
    od::parser parser;
    simdjson::padded_string padded(req.body());
    od::document doc;
    od::object obj;
    if (parser.iterate(padded).get(doc) || doc.get_object().get(obj))
        return rest_error(http::status::bad_request, "JSON_PARSER_ERROR",
                          "The request body must be a JSON object");
    std::string operation, query, delimiter = "COMMA", line_ending = "LF";
    for (auto m : obj) {
        std::string_view k, v;
        if (m.unescaped_key().get(k) || m.value().get_string().get(v))
            continue;
        if (k == "operation")
            operation = std::string(v);
        else if (k == "query")
            query = std::string(v);
        else if (k == "columnDelimiter")
            delimiter = std::string(v);
        else if (k == "lineEnding")
            line_ending = std::string(v);
    }
    if (operation != "query" && operation != "queryAll")
        return rest_error(http::status::bad_request, "INVALIDJOB",
                          "Invalid operation: " + operation + ". Use query or queryAll.");
    soql::query q;
    soql::error err;
    if (!soql::parse(query, data_.objects(), q, err))
        return rest_error(http::status::bad_request, err.code, err.message);
    if (q.count_only)
        return rest_error(http::status::bad_request, "INVALIDJOB",
                          "Aggregate queries are not supported by Bulk API 2.0: COUNT()");
    for (int f : q.fields) {
        const auto& fd = q.object->fields[static_cast<std::size_t>(f)];
        if (fd.type == field_type::address || fd.type == field_type::location)
            return rest_error(http::status::bad_request, "INVALIDJOB",
                              "Compound fields are not supported by Bulk API 2.0: " + fd.name);
    }
    static const std::map<std::string, char, std::less<>> delimiters = {
        {"COMMA", ','},     {"TAB", '\t'},  {"PIPE", '|'},
        {"SEMICOLON", ';'}, {"CARET", '^'}, {"BACKQUOTE", '`'}};
    auto d = delimiters.find(delimiter);
    if (d == delimiters.end() || (line_ending != "LF" && line_ending != "CRLF"))
        return rest_error(http::status::bad_request, "INVALIDJOB",
                          "Invalid columnDelimiter or lineEnding");

    job j;
    j.id = ids::make("750", ++sequence_);
    j.operation = operation;
    j.version = std::string(version);
    j.object = q.object;
    j.fields = q.fields;
    j.delimiter = d->second;
    j.delimiter_name = delimiter;
    j.line_ending = line_ending == "CRLF" ? "\r\n" : "\n";
    j.created = rest_datetime(format_datetime(data_.now_ms()));
    const bool all = operation == "queryAll";
    for (const auto& r : data_.records(*q.object))
        if ((all || !r->deleted) && soql::matches(q, *r))
            j.rows.push_back(r.get());
    soql::sort(q, j.rows);
    if (q.offset)
        j.rows.erase(j.rows.begin(),
                     j.rows.begin() + static_cast<long>(std::min<std::size_t>(
                                          j.rows.size(), static_cast<std::size_t>(*q.offset))));
    if (q.limit && j.rows.size() > static_cast<std::size_t>(*q.limit))
        j.rows.resize(static_cast<std::size_t>(*q.limit));
    auto [it, inserted] = jobs_.emplace(j.id, std::move(j));
    response r = info(it->second, false);
    r.result(http::status::ok);
    return r;
}

response bulk_api::info(job& j, bool count_poll) {
    const char* state = "UploadComplete";
    if (count_poll)
        state = j.aborted ? "Aborted" : (j.polls++ == 0 ? "InProgress" : "JobComplete");
    else if (j.aborted)
        state = "Aborted";
    std::string body;
    json::writer w(body);
    w.begin_object();
    w.member("id", j.id).member("operation", j.operation).member("object", j.object->name);
    w.member("createdById", data_.user_id()).member("createdDate", j.created);
    w.member("systemModstamp", j.created).member("state", state);
    w.member("concurrencyMode", "Parallel").member("contentType", "CSV");
    w.key("apiVersion").raw(j.version);
    w.member("jobType", "V2Query");
    w.member("lineEnding", j.line_ending == "\n" ? "LF" : "CRLF");
    w.member("columnDelimiter", j.delimiter_name);
    w.member("numberRecordsProcessed", static_cast<std::int64_t>(j.rows.size()));
    w.member("retries", 0).member("totalProcessingTime", 0);
    w.member("isPkChunkingSupported", true);
    w.end_object();
    return json_response(http::status::ok, std::move(body));
}

response bulk_api::results(job& j, std::string_view version, std::string_view query_string) {
    (void)version;
    const auto qs = parse_form(query_string);
    std::size_t offset = 0, max_records = 50000;
    if (auto it = qs.find("locator"); it != qs.end() && !it->second.empty()) {
        // Locators are opaque to clients; ours is the offset in base-36.
        const auto decoded =
            std::from_chars(it->second.data(), it->second.data() + it->second.size(), offset, 36);
        if (decoded.ec != std::errc{} || offset > j.rows.size())
            return rest_error(http::status::bad_request, "INVALIDLOCATOR", "Invalid locator");
    }
    if (auto it = qs.find("maxRecords"); it != qs.end()) {
        if (std::from_chars(it->second.data(), it->second.data() + it->second.size(), max_records)
                    .ec != std::errc{} ||
            max_records == 0)
            return rest_error(http::status::bad_request, "INVALIDMAXRECORDS",
                              "maxRecords must be a positive integer");
    }
    const std::size_t end = std::min(j.rows.size(), offset + max_records);
    const object_def& o = *j.object;
    std::string csv;
    csv.reserve((end - offset) * 16 * j.fields.size() + 64);
    for (std::size_t i = 0; i < j.fields.size(); ++i) {
        if (i)
            csv.push_back(j.delimiter);
        append_quoted(csv, o.fields[static_cast<std::size_t>(j.fields[i])].name);
    }
    csv.append(j.line_ending);
    const bool repeat = faults_.repeat_bulk_rows && end > offset;
    for (std::size_t k = offset; k < end + (repeat ? 1 : 0); ++k) {
        const std::size_t r = k < end ? k : offset;
        for (std::size_t i = 0; i < j.fields.size(); ++i) {
            if (i)
                csv.push_back(j.delimiter);
            // A null is an empty, unquoted field (append_value writes nothing for it).
            append_value(csv, j.rows[r]->get(j.fields[i]));
        }
        csv.append(j.line_ending);
    }
    response res{http::status::ok, 11};
    res.set(http::field::content_type, "text/csv");
    res.set("Sforce-NumberOfRecords", std::to_string(end - offset + (repeat ? 1 : 0)));
    if (end < j.rows.size()) {
        char buf[24];
        auto [p, ec] = std::to_chars(buf, buf + sizeof buf, end, 36);
        (void)ec;
        res.set("Sforce-Locator", std::string(buf, p));
    } else {
        res.set("Sforce-Locator", "null");
    }
    res.body() = std::move(csv);
    return res;
}

} // namespace sfbridge::sim
