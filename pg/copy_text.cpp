#include "pg/copy_text.hpp"

#include <array>

namespace sfbridge::pg::copy_text {

namespace {
// The bytes the text format gives meaning to: the backslash, and the delimiter and row
// separators (tab, newline, carriage return). Everything else is taken literally.
constexpr auto special = [] {
    std::array<bool, 256> t{};
    t[static_cast<unsigned char>('\\')] = t['\t'] = t['\n'] = t['\r'] = true;
    return t;
}();
} // namespace

void append_field(std::string& out, std::string_view value, bool first_in_row) {
    if (!first_in_row)
        out.push_back('\t');
    // Runs of plain bytes are appended whole (most values have nothing to escape).
    const char* run = value.data();
    const char* const end = run + value.size();
    for (const char* p = run; p < end; ++p) {
        if (!special[static_cast<unsigned char>(*p)])
            continue;
        out.append(run, p);
        out.push_back('\\');
        switch (*p) {
        case '\t':
            out.push_back('t');
            break;
        case '\n':
            out.push_back('n');
            break;
        case '\r':
            out.push_back('r');
            break;
        default:
            out.push_back('\\');
            break;
        }
        run = p + 1;
    }
    out.append(run, end);
}

void append_null(std::string& out, bool first_in_row) {
    if (!first_in_row)
        out.push_back('\t');
    out.append("\\N");
}

} // namespace sfbridge::pg::copy_text
