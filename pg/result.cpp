#include "pg/result.hpp"

#include <charconv>
#include <cstring>

namespace sfbridge::pg {

int result::column_index(std::string_view name) const noexcept {
    // PQfnumber folds unquoted names to lower case and needs a NUL-terminated string; a plain
    // exact comparison is what callers of a text API expect.
    for (int i = 0, n = columns(); i < n; ++i) {
        if (column_name(i) == name)
            return i;
    }
    return -1;
}

std::uint64_t result::affected_rows() const noexcept {
    if (!res_)
        return 0;
    const char* text = PQcmdTuples(res_.get());
    std::uint64_t n = 0;
    std::from_chars(text, text + std::strlen(text), n);
    return n;
}

} // namespace sfbridge::pg
