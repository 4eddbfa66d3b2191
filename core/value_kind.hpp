#pragma once

// How a Salesforce value arrived: a JSON token (REST, streaming) or a Bulk API 2.0 CSV field.
// In core/ because salesforce/ produces it and mappings/ converts it, and neither may include
// the other.
namespace sfbridge {

enum class sf_value_kind { json_null, json_bool, json_number, json_string, csv };

} // namespace sfbridge
