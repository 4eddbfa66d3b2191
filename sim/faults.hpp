#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>

namespace sfbridge::sim {

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
};

} // namespace sfbridge::sim
