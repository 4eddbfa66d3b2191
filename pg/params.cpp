#include "pg/params.hpp"

#include <charconv>
#include <limits>
#include <stdexcept>

namespace sfbridge::pg {

params& params::add(std::string_view v) {
    if (v.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        throw std::length_error("pg::params: value longer than 2 GiB");
    if (v.find('\0') != std::string_view::npos)
        throw std::invalid_argument("pg::params: text value contains a NUL byte");
    entries_.push_back({data_.size(), static_cast<int>(v.size())});
    data_.append(v);
    data_.push_back('\0');
    return *this;
}

params& params::add(double v) {
    char buf[32];
    // Shortest round-trip representation: PostgreSQL parses it back to the same double.
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    return add(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

params& params::add_integer(long long v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    return add(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

params& params::add_unsigned(unsigned long long v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    return add(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

params& params::add_null() {
    entries_.push_back({data_.size(), -1});
    return *this;
}

void params::materialize(std::vector<const char*>& values) const {
    values.resize(entries_.size());
    for (std::size_t i = 0; i < entries_.size(); ++i)
        values[i] = entries_[i].length < 0 ? nullptr : data_.data() + entries_[i].offset;
}

std::string text_array(const std::vector<std::optional<std::string>>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i)
            out += ',';
        if (!values[i]) {
            out += "NULL";
            continue;
        }
        out += '"';
        for (char c : *values[i]) {
            if (c == '"' || c == '\\')
                out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

} // namespace sfbridge::pg
