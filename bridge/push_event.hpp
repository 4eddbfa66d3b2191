#pragma once

#include "salesforce/records.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// A streamed change, from either kind of channel. Pure; one parser reused, values copied out.
//  - PushTopic: {"event":{"createdDate","replayId","type"},"sobject":{...}}.
//  - Change Data Capture: {"event":{"replayId"},"payload":{"ChangeEventHeader":{"changeType",
//    "recordIds","commitTimestamp",...}, <fields>}}. Creates and undeletes carry every non-empty
//    field (the record gets Id, SystemModstamp = commitTimestamp and IsDeleted = false added);
//    updates only the changed ones, deletes none.
namespace sfbridge::bridge {

struct push_event {
    // created, updated, deleted, undeleted; "gap" for CDC's GAP_* events (the change is known,
    // its fields are not) and GAP_OVERFLOW (overflow is set: changes were not captured at all).
    std::string type;
    std::string created_date; // as sent (2024-01-31T10:00:00.000Z)
    std::int64_t replay_id = 0;
    salesforce::flat_record sobject;
    bool change_event = false;           // from a CDC channel
    std::vector<std::string> record_ids; // CDC: recordIds (several for one bulk change)
    bool overflow = false;
};

class push_event_reader {
public:
    // False with `error` when the data is not a PushTopic event.
    bool read(std::string_view data, push_event& out, std::string& error);

private:
    static bool read_change_event(simdjson::ondemand::object payload, push_event& out,
                                  std::string& error);
    simdjson::ondemand::parser parser_;
    std::string buffer_;
};

} // namespace sfbridge::bridge
