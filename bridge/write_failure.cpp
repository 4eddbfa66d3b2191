#include "bridge/write_failure.hpp"

#include "pg/error.hpp"

#include <string_view>

namespace sfbridge::bridge {

write_failure classify_write_failure(const boost::system::error_code& ec) {
    const std::string sqlstate = pg::sqlstate_of(ec);
    const std::string_view cls = std::string_view(sqlstate).substr(0, 2);
    if (cls == "22" || cls == "23" || cls == "P0")
        return write_failure::refused_row;
    return write_failure::transient;
}

} // namespace sfbridge::bridge
