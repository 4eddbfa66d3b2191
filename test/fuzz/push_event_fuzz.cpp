// libFuzzer target: whatever a PushTopic or Change Data Capture event's data holds, the event
// reader returns an event or an error; it never crashes or reads out of bounds.
#include "bridge/push_event.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static sfbridge::bridge::push_event_reader reader; // reused, as the stream reuses it
    sfbridge::bridge::push_event ev;
    std::string error;
    if (!reader.read(std::string_view(reinterpret_cast<const char*>(data), size), ev, error))
        return 0;
    // Touch what was copied out, so that a view into the input shows up.
    std::size_t total = ev.type.size() + ev.created_date.size() + ev.sobject.type.size();
    for (const auto& f : ev.sobject.fields)
        total += f.name.size() + f.raw.size();
    for (const auto& id : ev.record_ids)
        total += id.size();
    return total == 0 ? 0 : 0;
}
