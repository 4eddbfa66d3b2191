#include "pg/copy_text.hpp"

namespace sfbridge::pg::copy_text {

void append_field(std::string& out, std::string_view value, bool first_in_row) {
    if (!first_in_row)
        out.push_back('\t');
    // Escape what the text format gives meaning to: the backslash, and the delimiter and row
    // separators (tab, newline, carriage return). Everything else is taken literally.
    std::size_t start = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        const char* esc = nullptr;
        switch (c) {
        case '\\':
            esc = "\\\\";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        default:
            continue;
        }
        out.append(value.substr(start, i - start));
        out.append(esc);
        start = i + 1;
    }
    out.append(value.substr(start));
}

void append_null(std::string& out, bool first_in_row) {
    if (!first_in_row)
        out.push_back('\t');
    out.append("\\N");
}

} // namespace sfbridge::pg::copy_text
