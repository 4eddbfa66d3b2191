#include "mappings/soql.hpp"

#include "core/calendar.hpp"
#include "core/text.hpp"

#include <cctype>

namespace sfbridge::mappings::soql {

std::string quote(std::string_view value) {
    std::string out = "'";
    for (char c : value) {
        switch (c) {
        case '\'':
            out += "\\'";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        case '"':
            out += "\\\"";
            break;
        default:
            out += c;
        }
    }
    out += "'";
    return out;
}

std::string datetime(std::int64_t epoch_ms) {
    return calendar::format_utc(epoch_ms, 'T', true);
}

std::string filter_clause(std::string_view filter, filter_position at) {
    if (filter.empty())
        return {};
    return (at == filter_position::after_condition ? " AND (" : " WHERE (") + std::string(filter) +
           ")";
}

std::optional<std::string> select_all(std::string_view object,
                                      const std::vector<std::string>& fields, std::string& error,
                                      std::string_view filter) {
    auto list = select_list(object, fields, error);
    if (!list)
        return std::nullopt;
    return "SELECT " + *list + " FROM " + std::string(object) +
           filter_clause(filter, filter_position::whole_where);
}

std::optional<std::string> modstamp_window(std::string_view object,
                                           const std::vector<std::string>& fields,
                                           std::int64_t from_ms, std::int64_t to_ms,
                                           std::string& error, std::string_view filter) {
    auto base = select_all(object, fields, error);
    if (!base)
        return std::nullopt;
    return *base + " WHERE SystemModstamp >= " + datetime(from_ms) +
           " AND SystemModstamp <= " + datetime(to_ms) +
           filter_clause(filter, filter_position::after_condition) +
           " ORDER BY SystemModstamp ASC, Id ASC";
}

std::optional<std::vector<std::string>> by_ids(std::string_view object,
                                               const std::vector<std::string>& fields,
                                               const std::vector<std::string>& ids,
                                               std::size_t batch, std::string& error,
                                               std::string_view filter) {
    auto base = select_all(object, fields, error);
    if (!base)
        return std::nullopt;
    std::vector<std::string> out;
    for (std::size_t start = 0; start < ids.size(); start += batch) {
        std::string q = *base + " WHERE Id IN (";
        for (std::size_t i = start; i < ids.size() && i < start + batch; ++i)
            q += (i == start ? "" : ", ") + quote(ids[i]);
        out.push_back(q + ")" + filter_clause(filter, filter_position::after_condition));
    }
    return out;
}

} // namespace sfbridge::mappings::soql
