#pragma once

#include "core/api_name.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// SOQL that sfbridge sends, built with correct quoting. Object and field names are checked to be
// API names (letters, digits, underscores), so no name can change the meaning of a query;
// values are always literals, escaped. Pure.
namespace sfbridge::mappings::soql {

// A string literal: quotes, backslashes and control characters escaped as SOQL wants.
[[nodiscard]] std::string quote(std::string_view value);
// A datetime literal in UTC with milliseconds: 2024-01-31T10:00:00.000Z.
[[nodiscard]] std::string datetime(std::int64_t epoch_ms);
// Whether a name is a plain API name (core/api_name.hpp).
using sfbridge::is_api_name;

// Each returns nullopt when a name is not an API name (with `error` saying which). `filter`,
// when not empty, is a mapping's row filter as SOQL (filter.hpp): only matching records.
[[nodiscard]] std::optional<std::string> select_all(std::string_view object,
                                                    const std::vector<std::string>& fields,
                                                    std::string& error,
                                                    std::string_view filter = {});
// Records changed in [from, to], in SystemModstamp then Id order, for polling with an overlap.
[[nodiscard]] std::optional<std::string> modstamp_window(std::string_view object,
                                                         const std::vector<std::string>& fields,
                                                         std::int64_t from_ms, std::int64_t to_ms,
                                                         std::string& error,
                                                         std::string_view filter = {});
// Records by id, split so that each query names at most `batch` ids.
[[nodiscard]] std::optional<std::vector<std::string>> by_ids(std::string_view object,
                                                             const std::vector<std::string>& fields,
                                                             const std::vector<std::string>& ids,
                                                             std::size_t batch, std::string& error,
                                                             std::string_view filter = {});
// " WHERE (filter)" for a query without a WHERE, " AND (filter)" after a condition; "" without
// a filter.
enum class filter_position { whole_where, after_condition };
[[nodiscard]] std::string filter_clause(std::string_view filter, filter_position at);

} // namespace sfbridge::mappings::soql
