#include "bridge/hstore.hpp"

namespace sfbridge::bridge {

namespace {
bool read_quoted(std::string_view t, std::size_t& i, std::string& out) {
    if (i >= t.size() || t[i] != '"')
        return false;
    ++i;
    out.clear();
    while (i < t.size()) {
        const char c = t[i++];
        if (c == '\\') {
            if (i >= t.size())
                return false;
            out += t[i++];
        } else if (c == '"') {
            return true;
        } else {
            out += c;
        }
    }
    return false;
}
void skip_space(std::string_view t, std::size_t& i) {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\t'))
        ++i;
}
} // namespace

bool parse_hstore(std::string_view t, hstore_pairs& out, std::string& error) {
    out.clear();
    std::size_t i = 0;
    skip_space(t, i);
    while (i < t.size()) {
        std::string key, value;
        if (!read_quoted(t, i, key)) {
            error = "hstore: expected a quoted key at " + std::to_string(i);
            return false;
        }
        skip_space(t, i);
        if (t.substr(i, 2) != "=>") {
            error = "hstore: expected => at " + std::to_string(i);
            return false;
        }
        i += 2;
        skip_space(t, i);
        if (t.substr(i, 4) == "NULL") {
            i += 4;
            out.emplace_back(std::move(key), std::nullopt);
        } else if (read_quoted(t, i, value)) {
            out.emplace_back(std::move(key), std::move(value));
        } else {
            error = "hstore: expected a quoted value or NULL at " + std::to_string(i);
            return false;
        }
        skip_space(t, i);
        if (i < t.size()) {
            if (t[i] != ',') {
                error = "hstore: expected , at " + std::to_string(i);
                return false;
            }
            ++i;
            skip_space(t, i);
        }
    }
    return true;
}

} // namespace sfbridge::bridge
