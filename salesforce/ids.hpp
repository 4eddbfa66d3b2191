#pragma once

#include <string_view>

// Salesforce record ids: 15 case-sensitive characters, or 18 with a case-insensitive suffix of
// three characters that encodes which of the first 15 are upper case. Pure.
namespace sfbridge::salesforce {

// Whether `id` is a record id: 15 or 18 letters and digits, and for 18 the suffix that matches
// the first 15. Anything else (a comma, a space, a path) must never reach a URL or a query.
[[nodiscard]] bool is_record_id(std::string_view id) noexcept;

} // namespace sfbridge::salesforce
