#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace sfbridge::pg {

// An owning view of one PGresult. Values are text (the format sfbridge uses on the wire) and the
// string_views stay valid as long as this object lives.
class result {
public:
    result() = default;
    explicit result(PGresult* r) noexcept : res_(r) {}

    [[nodiscard]] bool empty() const noexcept { return !res_; }
    [[nodiscard]] int rows() const noexcept { return res_ ? PQntuples(res_.get()) : 0; }
    [[nodiscard]] int columns() const noexcept { return res_ ? PQnfields(res_.get()) : 0; }
    [[nodiscard]] bool is_null(int row, int col) const noexcept {
        return PQgetisnull(res_.get(), row, col) != 0;
    }
    [[nodiscard]] std::string_view value(int row, int col) const noexcept {
        return {PQgetvalue(res_.get(), row, col),
                static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
    }
    [[nodiscard]] std::optional<std::string_view> optional_value(int row, int col) const noexcept {
        if (is_null(row, col))
            return std::nullopt;
        return value(row, col);
    }
    [[nodiscard]] std::string_view column_name(int col) const noexcept {
        return PQfname(res_.get(), col);
    }
    // The column's index, or -1 when the result has no such column.
    [[nodiscard]] int column_index(std::string_view name) const noexcept;
    // Rows inserted, updated, deleted or copied, from the command tag.
    [[nodiscard]] std::uint64_t affected_rows() const noexcept;
    [[nodiscard]] ExecStatusType status() const noexcept {
        return res_ ? PQresultStatus(res_.get()) : PGRES_EMPTY_QUERY;
    }
    [[nodiscard]] PGresult* native_handle() const noexcept { return res_.get(); }

private:
    struct deleter {
        void operator()(PGresult* r) const noexcept { PQclear(r); }
    };
    std::unique_ptr<PGresult, deleter> res_;
};

} // namespace sfbridge::pg
