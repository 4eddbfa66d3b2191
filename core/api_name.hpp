#pragma once

#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// A SOQL select list: Id first, each field once (compared case-insensitively), every name
// checked with is_api_name. nullopt with `error` naming the first name that is not one. Shared
// by the queries mappings/ builds and the PushTopic query salesforce/ builds.
[[nodiscard]] std::optional<std::string>
select_list(std::string_view object, const std::vector<std::string>& fields, std::string& error);

} // namespace sfbridge
