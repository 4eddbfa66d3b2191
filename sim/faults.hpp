#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>

namespace sfbridge::sim {

// What happens to the answer of a request sfsim has already applied (its writes committed): the
// faults behind "writes whose answer may be lost" (salesforce-protocol.md §5). A client that
// sends such a write again blindly creates a second record.
struct answer_fault {
    enum class action { none, drop, status, delay };
    action what = action::none;
    unsigned status = 502;              // action::status: 500, 502, 503 or 504
    std::chrono::milliseconds delay{0}; // action::delay: the answer is held this long
    // Which requests: "" (any data API request), "record", "collections", "bulk", "query" or
    // "cometd"; and "" (any) or the sObject the request is about.
    std::string api;
    std::string object;
    long count = -1; // how many more requests it takes; -1: every matching one
};

// Faults the simulator can be told to inject (through /__sim/faults or flags). The control API
// itself is never affected.
struct fault_settings {
    bool unavailable = false;           // every request answers HTTP 503
    double fail_share = 0;              // this share of requests answers HTTP 503, at random
    bool reset_connections = false;     // requests are dropped without an answer
    bool stall = false;                 // requests are held without an answer until cleared
    std::chrono::milliseconds delay{0}; // every answer is delayed this long
    double lock_share = 0;              // this share of record writes fails UNABLE_TO_LOCK_ROW
    std::set<std::string> locked_ids;   // these records fail UNABLE_TO_LOCK_ROW
    // Each Bulk API results page ends with its first row a second time (Salesforce should not
    // return a record twice; clients must not lose or corrupt data if it does).
    bool repeat_bulk_rows = false;
    answer_fault after_apply;
};

} // namespace sfbridge::sim
