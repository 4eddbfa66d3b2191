// libFuzzer target: an object's describe as the REST API returns it (mappings/describe.cpp)
// parses or is refused with a reason; every field it yields has a name.
#include "mappings/describe.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view json(reinterpret_cast<const char*>(data), size);
    std::string error;
    const auto d = sfbridge::mappings::parse_describe(json, error);
    if (!d && error.empty())
        std::abort(); // a refusal always says why
    return 0;
}
