#include "core/api_name.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace sfbridge {

std::optional<std::string> select_list(std::string_view object,
                                       const std::vector<std::string>& fields, std::string& error) {
    if (!is_api_name(object)) {
        error = "\"" + std::string(object) + "\" is not an object API name";
        return std::nullopt;
    }
    std::vector<std::string> chosen{"Id"};
    for (const auto& f : fields) {
        if (!is_api_name(f)) {
            error = "\"" + f + "\" is not a field API name (on " + std::string(object) + ")";
            return std::nullopt;
        }
        if (std::none_of(chosen.begin(), chosen.end(),
                         [&](const std::string& c) { return text::iequals(c, f); }))
            chosen.push_back(f);
    }
    std::string out;
    for (const auto& c : chosen)
        out += (out.empty() ? "" : ", ") + c;
    return out;
}

} // namespace sfbridge
