#pragma once

#include "sim/faults.hpp"
#include "sim/http_util.hpp"
#include "sim/schema.hpp"

#include <simdjson.h>

#include <string>
#include <string_view>

// Answer faults (fault_settings::after_apply): which requests they take, and the answer a
// status fault gives. The simulator applies the request first, then drops, delays or replaces
// its answer (simulator.cpp).
namespace sfbridge::sim {

// What a request is about: its API ("record", "collections", "bulk", "query", "cometd",
// "oauth", or "" for anything else) and, where the request says, its sObject.
struct request_about {
    std::string api;
    std::string object;
};
[[nodiscard]] request_about classify_request(std::string_view path, std::string_view query_string,
                                             std::string_view body, const schema& s);

// {"action":"drop"|"status"|"delay", "status":502, "delayMs":130000, "api":"collections",
// "object":"Contact", "count":1}. False with `error` naming what is wrong.
bool read_answer_fault(simdjson::ondemand::value v, answer_fault& out, std::string& error);

// Whether the fault takes this request; a counted fault counts down and ends at zero.
[[nodiscard]] bool takes(answer_fault& f, const request_about& r);

// The answer of a status fault: Salesforce's JSON error for 500, a proxy's HTML page for 502,
// 503 and 504.
[[nodiscard]] response fault_answer(unsigned status);

} // namespace sfbridge::sim
