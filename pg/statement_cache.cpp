#include "pg/statement_cache.hpp"

namespace sfbridge::pg {

const std::string* statement_cache::find(std::string_view sql) const {
    const auto it = names_.find(sql);
    return it == names_.end() ? nullptr : &it->second;
}

std::string statement_cache::next_name(std::size_t pending) {
    if (names_.size() + pending >= capacity_)
        return {};
    // Unique for the life of the object, so a name is never reused on a session, even after
    // clear() (which follows a reconnect, where it could not clash anyway).
    return "sfbridge_" + std::to_string(++sequence_);
}

void statement_cache::add(std::string_view sql, std::string name) {
    if (names_.size() < capacity_)
        names_.emplace(std::string(sql), std::move(name));
}

} // namespace sfbridge::pg
