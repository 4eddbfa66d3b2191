#pragma once

#include <cctype>
#include <string_view>

namespace sfbridge {

// Whether a name is a plain Salesforce API name (Account, Custom__c, Geo__Latitude__s): letters,
// digits and underscores, starting with a letter. Names that pass cannot change what a SOQL
// query means.
[[nodiscard]] inline bool is_api_name(std::string_view name) noexcept {
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name.front())))
        return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
            return false;
    return true;
}

} // namespace sfbridge
