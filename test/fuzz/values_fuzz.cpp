// libFuzzer target: Salesforce value conversion both ways (mappings/values.cpp), for every kind
// of field: a value from Salesforce becomes column text or is refused with a reason, and the
// allocation-free form agrees with the other; column text becomes write JSON or is refused.
#include "mappings/values.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace sfbridge;
using mappings::conversion;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2)
        return 0;
    static const char* types[] = {"string",   "textarea",      "boolean",   "double",   "currency",
                                  "percent",  "int",           "date",      "datetime", "time",
                                  "picklist", "multipicklist", "reference", "email",    "long"};
    mappings::sf_field_info f;
    f.name = "Field__c";
    f.type = types[data[0] % std::size(types)];
    f.length = 1 + data[1] % 255;
    const auto kind = static_cast<sf_value_kind>(data[0] / std::size(types) % 5);
    const std::string_view raw(reinterpret_cast<const char*>(data) + 2, size - 2);
    std::optional<std::string> out;
    std::string error;
    const auto c = mappings::to_postgres(f, kind, raw, out, error);
    if (c == conversion::refused && error.empty())
        std::abort(); // a refusal names what was wrong
    std::string scratch;
    std::optional<std::string_view> view;
    std::string error2;
    const auto c2 =
        mappings::to_postgres(f, mappings::classify(f), kind, raw, scratch, view, error2);
    if (c2 != c || out.has_value() != view.has_value() || (out && *out != *view))
        std::abort(); // the two forms of the conversion disagree
    std::string json;
    (void)mappings::to_salesforce_json(f, std::optional<std::string>(std::string(raw)), json,
                                       error);
    return 0;
}
