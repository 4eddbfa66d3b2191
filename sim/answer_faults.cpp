#include "sim/answer_faults.hpp"

#include "core/text.hpp"

namespace sfbridge::sim {

namespace {

// The sObject named in a collections body: the first record's attributes.type.
std::string type_in_body(std::string_view body) {
    constexpr std::string_view key = "\"type\":\"";
    const auto at = body.find(key);
    if (at == std::string_view::npos)
        return {};
    const auto start = at + key.size();
    const auto end = body.find('"', start);
    return end == std::string_view::npos ? std::string()
                                         : std::string(body.substr(start, end - start));
}

// The object after FROM in a SOQL query.
std::string object_in_soql(const std::string& soql) {
    const std::string lower = text::ascii_lower(soql);
    const auto at = lower.find(" from ");
    if (at == std::string::npos)
        return {};
    const auto start = soql.find_first_not_of(' ', at + 6);
    if (start == std::string::npos)
        return {};
    const auto end = soql.find_first_of(" \t\r\n", start);
    return soql.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The object of a record id's key prefix.
std::string object_of_id(std::string_view id, const schema& s) {
    if (id.size() < 3)
        return {};
    const auto* o = s.by_key_prefix(id.substr(0, 3));
    return o ? o->name : std::string();
}

} // namespace

request_about classify_request(std::string_view path, std::string_view query_string,
                               std::string_view body, const schema& s) {
    if (path.starts_with("/cometd"))
        return {"cometd", {}};
    if (path == "/services/oauth2/token")
        return {"oauth", {}};
    const auto seg = path_segments(path);
    if (seg.size() < 4 || seg[0] != "services" || seg[1] != "data")
        return {};
    const std::vector<std::string> rest(seg.begin() + 3, seg.end());
    if (rest[0] == "composite" && rest.size() >= 2 && rest[1] == "sobjects") {
        if (rest.size() >= 3)
            return {"collections", rest[2]};
        const auto form = parse_form(query_string);
        if (auto ids = form.find("ids"); ids != form.end())
            return {"collections", object_of_id(ids->second, s)};
        return {"collections", type_in_body(body)};
    }
    if (rest[0] == "sobjects")
        return {"record", rest.size() >= 2 ? rest[1] : std::string()};
    if (rest[0] == "jobs")
        return {"bulk", {}};
    if (rest[0] == "query" || rest[0] == "queryAll") {
        const auto form = parse_form(query_string);
        const auto q = form.find("q");
        return {"query", q == form.end() ? std::string() : object_in_soql(q->second)};
    }
    return {};
}

bool read_answer_fault(simdjson::ondemand::value v, answer_fault& out, std::string& error) {
    simdjson::ondemand::object obj;
    if (v.get_object().get(obj)) {
        error = "afterApply: expected an object";
        return false;
    }
    out = answer_fault{};
    for (auto m : obj) {
        std::string_view k, text;
        std::int64_t n = 0;
        if (m.unescaped_key().get(k)) {
            error = "afterApply: unreadable key";
            return false;
        }
        auto item = m.value();
        if ((k == "action" || k == "api" || k == "object") && !item.get_string().get(text)) {
            if (k == "api")
                out.api = text;
            else if (k == "object")
                out.object = text;
            else if (text == "drop")
                out.what = answer_fault::action::drop;
            else if (text == "status")
                out.what = answer_fault::action::status;
            else if (text == "delay")
                out.what = answer_fault::action::delay;
            else {
                error = "afterApply: action is drop, status or delay";
                return false;
            }
        } else if (k == "status" && !item.get_int64().get(n) &&
                   (n == 500 || n == 502 || n == 503 || n == 504)) {
            out.status = static_cast<unsigned>(n);
        } else if (k == "delayMs" && !item.get_int64().get(n) && n >= 0) {
            out.delay = std::chrono::milliseconds(n);
        } else if (k == "count" && !item.get_int64().get(n) && n >= -1) {
            out.count = static_cast<long>(n);
        } else {
            error = "afterApply: unknown or mistyped setting " + std::string(k);
            return false;
        }
    }
    if (out.what == answer_fault::action::none) {
        error = "afterApply: action is required";
        return false;
    }
    return true;
}

bool takes(answer_fault& f, const request_about& r) {
    if (f.what == answer_fault::action::none || f.count == 0)
        return false;
    // "Any" means the data APIs: the OAuth endpoint and CometD only when named.
    const bool api =
        f.api.empty() ? (!r.api.empty() && r.api != "oauth" && r.api != "cometd") : f.api == r.api;
    if (!api || (!f.object.empty() && text::ascii_lower(f.object) != text::ascii_lower(r.object)))
        return false;
    if (f.count > 0 && --f.count == 0)
        f.what = answer_fault::action::none;
    return true;
}

response fault_answer(unsigned status) {
    const auto s = static_cast<http::status>(status);
    // Salesforce's own 503 means the request was not processed, so a 503 after the write can
    // only come from something in front of it: a proxy's page, like 502 and 504.
    if (status == 500)
        return rest_error(s, "UNKNOWN_EXCEPTION",
                          "An unexpected error occurred. Please include this ErrorId if you "
                          "contact support: sfsim-fault");
    response res{s, 11};
    res.set(http::field::content_type, "text/html");
    res.body() = "<html><body><h1>" + std::to_string(status) +
                 (status == 504   ? " Gateway Timeout"
                  : status == 503 ? " Service Unavailable"
                                  : " Bad Gateway") +
                 "</h1></body></html>";
    return res;
}

} // namespace sfbridge::sim
