#include "bridge/write_failure.hpp"

#include "pg/error.hpp"

#include <string_view>

namespace sfbridge::bridge {

write_failure classify_write_failure(const boost::system::error_code& ec) {
    const std::string sqlstate = pg::sqlstate_of(ec);
    if (sqlstate == "SB001") // bridge/leadership_sql::fenced_sqlstate (pure: no include)
        return write_failure::fenced;
    const std::string_view cls = std::string_view(sqlstate).substr(0, 2);
    if (cls == "22" || cls == "23" || cls == "P0")
        return write_failure::refused_row;
    return write_failure::transient;
}

namespace {
class write_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "sfbridge.write"; }
    std::string message(int ev) const override {
        if (static_cast<write_errc>(ev) == write_errc::positions_unsure)
            return "the Postgres session was replaced: positions must be read again";
        return "unknown write error";
    }
};
} // namespace

const boost::system::error_category& write_category() noexcept {
    static const write_category_impl c;
    return c;
}

} // namespace sfbridge::bridge
