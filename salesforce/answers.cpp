// Salesforce's JSON answers that decide an outcome, read without I/O (and fuzzed on their own,
// test/fuzz/answers_fuzz.cpp): the token endpoint's answer, an error body, a collections
// answer. Their callers (oauth.cpp, rest_client.cpp, collections.cpp) only do the calls.
#include "salesforce/collections.hpp"
#include "salesforce/oauth.hpp"
#include "salesforce/rest_client.hpp"

#include <simdjson.h>

#include <cstdlib>

namespace sfbridge::salesforce {

boost::system::error_code parse_token_response(unsigned status, std::string_view body,
                                               access_token& out, diagnostics& diag) {
    diag.http_status = status;
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(body);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (parser.iterate(padded).get(doc) || doc.get_object().get(obj)) {
        diag.client_message = "the token endpoint's answer is not a JSON object";
        return status >= 500 ? errc::unavailable : errc::bad_response;
    }
    access_token t;
    std::string error, description;
    for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key))
            return errc::bad_response;
        std::string_view v;
        if (field.value().get_string().get(v))
            continue; // numbers and nulls: nothing we need
        if (key == "access_token")
            t.token = v;
        else if (key == "instance_url")
            t.instance_url = v;
        else if (key == "id")
            t.identity_url = v;
        else if (key == "refresh_token")
            t.refresh_token = v;
        else if (key == "issued_at")
            t.issued_at_ms = std::atoll(std::string(v).c_str());
        else if (key == "error")
            error = v;
        else if (key == "error_description")
            description = v;
    }
    if (status == 200 && !t.token.empty() && !t.instance_url.empty()) {
        out = std::move(t);
        return {};
    }
    diag.error_code = error;
    diag.message = description;
    if (status >= 500) {
        diag.client_message = "the token endpoint is unavailable";
        return errc::unavailable;
    }
    diag.client_message = "login refused";
    return status == 200 ? errc::bad_response : errc::auth_failed;
}

bool read_error_body(std::string_view body, diagnostics& diag) {
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(body);
    simdjson::ondemand::document doc;
    if (parser.iterate(padded).get(doc))
        return false;
    simdjson::ondemand::object obj;
    simdjson::ondemand::array arr;
    if (!doc.get_array().get(arr)) {
        bool first = false;
        for (auto e : arr) {
            if (e.get_object().get(obj))
                return false;
            first = true;
            break; // the first error describes the failure
        }
        if (!first)
            return false; // [] (found by fuzzing: the object was read unset)
    } else {
        if (parser.iterate(padded).get(doc) || doc.get_object().get(obj))
            return false;
    }
    bool any = false;
    for (auto m : obj) {
        std::string_view key;
        if (m.unescaped_key().get(key))
            return false;
        std::string_view v;
        if (key == "fields") {
            simdjson::ondemand::array fields;
            if (!m.value().get_array().get(fields))
                for (auto f : fields)
                    if (!f.get_string().get(v))
                        diag.fields.emplace_back(v);
            continue;
        }
        if (m.value().get_string().get(v))
            continue;
        if (key == "errorCode" || key == "statusCode" || key == "error") {
            diag.error_code = v;
            any = true;
        } else if (key == "message" || key == "error_description") {
            diag.message = v;
            any = true;
        }
    }
    return any;
}

bool read_collection_results(std::string_view body, std::size_t expected,
                             std::vector<record_result>& out) {
    out.clear();
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(body);
    simdjson::ondemand::document doc;
    simdjson::ondemand::array arr;
    if (parser.iterate(padded).get(doc) || doc.get_array().get(arr))
        return false;
    for (auto e : arr) {
        simdjson::ondemand::object o;
        if (e.get_object().get(o))
            return false;
        record_result r;
        r.attempted = true;
        for (auto m : o) {
            std::string_view key;
            if (m.unescaped_key().get(key))
                return false;
            if (key == "id") {
                std::string_view v;
                if (!m.value().get_string().get(v))
                    r.id = v;
            } else if (key == "success") {
                bool b = false;
                if (m.value().get_bool().get(b))
                    return false;
                r.success = b;
            } else if (key == "created") {
                bool b = false;
                if (!m.value().get_bool().get(b))
                    r.created = b;
            } else if (key == "errors") {
                simdjson::ondemand::array errs;
                if (m.value().get_array().get(errs))
                    return false;
                for (auto ev : errs) {
                    simdjson::ondemand::object eo;
                    if (ev.get_object().get(eo))
                        return false;
                    record_error err;
                    for (auto em : eo) {
                        std::string_view ek, v;
                        if (em.unescaped_key().get(ek))
                            return false;
                        if (ek == "fields") {
                            simdjson::ondemand::array fs;
                            if (!em.value().get_array().get(fs))
                                for (auto f : fs)
                                    if (!f.get_string().get(v))
                                        err.fields.emplace_back(v);
                        } else if (!em.value().get_string().get(v)) {
                            if (ek == "statusCode" || ek == "errorCode")
                                err.status_code = v;
                            else if (ek == "message")
                                err.message = v;
                        }
                    }
                    r.errors.push_back(std::move(err));
                }
            }
        }
        out.push_back(std::move(r));
    }
    return out.size() == expected;
}

} // namespace sfbridge::salesforce
