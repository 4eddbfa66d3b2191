#pragma once

#include "salesforce/rest_client.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// sObject Collections: create, update, upsert by external id and delete, 200 records per call,
// allOrNone false, one result per input in input order. Records that fail with
// UNABLE_TO_LOCK_ROW are sent again on their own after a backoff; other record errors are final
// and come back in the results.
namespace sfbridge::salesforce {

enum class collection_op { create, update, upsert, remove };

struct record_error {
    std::string status_code;
    std::string message;
    std::vector<std::string> fields;
};

struct record_result {
    bool attempted = false; // false when the call stopped (a transient error) before it
    // Sent, but its answer was lost (errc::outcome_unknown, or an unreadable answer to a
    // create): Salesforce may have created the record. Only creates end up here; the other
    // operations are idempotent and simply not attempted.
    bool unknown = false;
    bool success = false;
    std::string id;
    std::optional<bool> created; // upsert only
    std::vector<record_error> errors;
};

inline constexpr std::size_t collection_chunk = 200;

// `records`: for create, update and upsert, one JSON object per record with its fields (update
// needs "Id", upsert the external id field); the type attribute is added here. For remove, the
// record ids. `results` gets one entry per input. Returns an error only when a call failed as a
// whole in a way worth retrying later (unavailable, limits, session): the records not attempted
// say where it stopped, and records whose create may have been applied are `unknown`. A call
// refused as a whole (e.g. 400) marks its records failed with Salesforce's error and goes on.
boost::asio::awaitable<boost::system::error_code>
save_collection(rest_client& rest, collection_op op, std::string_view object,
                std::string_view external_id_field, const std::vector<std::string>& records,
                std::vector<record_result>& results, diagnostics& diag,
                const call_options& opts = default_call_options(), int lock_retries = 4);

// Reads a collections answer: exactly `expected` results. False when it is not one.
bool read_collection_results(std::string_view body, std::size_t expected,
                             std::vector<record_result>& out);

} // namespace sfbridge::salesforce
