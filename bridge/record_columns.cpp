#include "bridge/record_columns.hpp"

#include "core/text.hpp"

namespace sfbridge::bridge {

record_columns::record_columns(const mappings::resolved_mapping& m) : m_(&m) {
    for (std::size_t i = 0; i < m.fields.size(); ++i) {
        by_name_[text::ascii_lower(m.fields[i].sf.info.name)] = i;
        if (m.fields[i].column == "sfid")
            sfid_ = i;
        if (m.fields[i].column == "systemmodstamp")
            modstamp_ = i;
        if (m.fields[i].column == "isdeleted")
            isdeleted_ = i;
    }
}

std::optional<std::size_t> record_columns::find(std::string_view api_name) const {
    auto it = by_name_.find(text::ascii_lower(api_name));
    if (it == by_name_.end())
        return std::nullopt;
    return it->second;
}

std::string_view record_columns::id_of(const salesforce::flat_record& r) const {
    for (const auto& f : r.fields)
        if (find(f.name) == sfid_)
            return f.raw;
    return {};
}

std::string_view record_columns::id_of(const std::vector<int>& cols,
                                       const salesforce::csv_rows& rows, std::size_t r) const {
    for (std::size_t i = 0; i < cols.size() && i < rows.width(r); ++i)
        if (cols[i] == static_cast<int>(sfid_))
            return rows.field(r, i);
    return {};
}

const std::vector<int>& record_columns::of_header(const std::vector<std::string>& header) {
    if (&header != header_ || header.size() != header_cols_.size() ||
        (!header.empty() && header.back() != header_last_)) {
        header_ = &header;
        header_last_ = header.empty() ? std::string() : header.back();
        header_cols_.clear();
        for (const auto& name : header) {
            const auto c = find(name);
            header_cols_.push_back(c ? static_cast<int>(*c) : -1);
        }
    }
    return header_cols_;
}

} // namespace sfbridge::bridge
