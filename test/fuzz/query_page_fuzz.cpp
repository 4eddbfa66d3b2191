// libFuzzer target: whatever a REST query or queryAll answer holds, the record reader returns a
// page or an error; it never crashes or reads out of bounds. The first byte picks the entry
// point: a whole page, or one record (as a PushTopic event's sobject).
#include "salesforce/records.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    static sfbridge::salesforce::record_reader reader;
    const std::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string error;
    std::size_t total = 0;
    if (data[0] & 1) {
        sfbridge::salesforce::flat_record r;
        if (reader.read_record(json, r, error))
            for (const auto& f : r.fields)
                total += f.name.size() + f.raw.size();
    } else {
        sfbridge::salesforce::query_page page;
        if (reader.read_page(json, page, error))
            for (const auto& r : page.records)
                for (const auto& f : r.fields)
                    total += f.name.size() + f.raw.size() + page.next_records_url.size();
    }
    return total == 0 ? 0 : 0;
}
