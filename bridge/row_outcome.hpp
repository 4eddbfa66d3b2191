#pragma once

#include "core/utf8.hpp"
#include "mappings/values.hpp"

#include <string>
#include <string_view>

// What became of a record offered to a batch, and what _sfbridge_errors is told about it.
namespace sfbridge::bridge {

enum class row_outcome : unsigned char {
    added,   // as Salesforce sent it
    altered, // added with a value changed (NUL characters removed): `issue` says which
    refused, // not added (a value does not fit its field, no Id): `issue` says why
};

struct row_issue {
    std::string sfid; // the record's Id, empty when it has none fit to store
    std::string message;
    bool retry = false; // Postgres refused the record: fetched again later (refused_retry.hpp)
};

// An Id as _sfbridge_errors.sfid (varchar(18)) can take it, else empty: a refused record's Id
// may itself be what is wrong with it.
[[nodiscard]] inline std::string storable_sfid(std::string_view id) {
    if (id.size() > 18 || id.find('\0') != std::string_view::npos || !utf8::valid(id))
        return {};
    return std::string(id);
}

// Adds one value's conversion to the record's issue: false when the value was refused (the
// record is then refused), an alteration is appended to the others of the record.
inline bool note_conversion(mappings::conversion c, const std::string& message, row_issue& issue) {
    if (c == mappings::conversion::refused) {
        issue.message = "field " + message;
        return false;
    }
    if (c == mappings::conversion::altered)
        issue.message.append(issue.message.empty() ? "" : "; ").append(message);
    return true;
}

} // namespace sfbridge::bridge
