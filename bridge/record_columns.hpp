#pragma once

#include "mappings/resolve.hpp"
#include "salesforce/csv_reader.hpp"
#include "salesforce/records.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// Where a Salesforce record's fields go in a mapping's columns: by API name (any case) for
// REST records and events, by position for a Bulk API CSV header. Shared by the change batch
// (merges) and the load batch (COPY into an empty table), so both read records alike.
namespace sfbridge::bridge {

class record_columns {
public:
    explicit record_columns(const mappings::resolved_mapping& m);

    // The mapped column of an API name, if the mapping holds that field.
    [[nodiscard]] std::optional<std::size_t> find(std::string_view api_name) const;
    // Each header field's mapped column (-1: not mapped). Looked up once per header rather than
    // once per field of every row: a caller passes one header object for all the rows of a
    // query; a different object, or the same one changed, is looked up again.
    const std::vector<int>& of_header(const std::vector<std::string>& header);

    // A record's Id as sent (empty when it has none), read before its values are converted:
    // a record refused for one of them is still recorded with its Id.
    [[nodiscard]] std::string_view id_of(const salesforce::flat_record& r) const;
    // The same for row r of a Bulk API page whose header `of_header` gave `cols`.
    [[nodiscard]] std::string_view id_of(const std::vector<int>& cols,
                                         const salesforce::csv_rows& rows, std::size_t r) const;

    [[nodiscard]] std::size_t count() const noexcept { return m_->fields.size(); }
    [[nodiscard]] std::size_t sfid() const noexcept { return sfid_; }
    [[nodiscard]] std::size_t modstamp() const noexcept { return modstamp_; }
    [[nodiscard]] std::optional<std::size_t> isdeleted() const noexcept { return isdeleted_; }

private:
    const mappings::resolved_mapping* m_;
    std::size_t sfid_ = 0;
    std::size_t modstamp_ = 0;
    std::optional<std::size_t> isdeleted_;
    std::unordered_map<std::string, std::size_t> by_name_; // lower-case API name -> column
    const std::vector<std::string>* header_ = nullptr;
    std::string header_last_;
    std::vector<int> header_cols_;
};

} // namespace sfbridge::bridge
