#pragma once

#include "salesforce/records.hpp"

#include <cstdint>
#include <string>
#include <string_view>

// A PushTopic event's data: {"event":{"createdDate","replayId","type"},"sobject":{...}}.
// Pure; one parser reused, values copied out.
namespace sfbridge::bridge {

struct push_event {
    std::string type;         // created, updated, deleted, undeleted
    std::string created_date; // as sent (2024-01-31T10:00:00.000Z)
    std::int64_t replay_id = 0;
    salesforce::flat_record sobject;
};

class push_event_reader {
public:
    // False with `error` when the data is not a PushTopic event.
    bool read(std::string_view data, push_event& out, std::string& error);

private:
    simdjson::ondemand::parser parser_;
    std::string buffer_;
};

} // namespace sfbridge::bridge
