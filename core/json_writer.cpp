#include "core/json_writer.hpp"

#include <cassert>
#include <charconv>
#include <cmath>

namespace sfbridge::json {

void append_quoted(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        out.append(s.substr(start, i - start));
        switch (c) {
        case '"':
            out.append("\\\"");
            break;
        case '\\':
            out.append("\\\\");
            break;
        case '\n':
            out.append("\\n");
            break;
        case '\r':
            out.append("\\r");
            break;
        case '\t':
            out.append("\\t");
            break;
        case '\b':
            out.append("\\b");
            break;
        case '\f':
            out.append("\\f");
            break;
        default:
            out.append("\\u00");
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
        }
        start = i + 1;
    }
    out.append(s.substr(start));
    out.push_back('"');
}

void append_number(std::string& out, double v) {
    if (!std::isfinite(v)) {
        out.append("null");
        return;
    }
    char buf[32];
    // Integral values within the exactly representable range print as integers.
    if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) {
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
        (void)ec;
        out.append(buf, end);
        return;
    }
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out.append(buf, end);
}

void writer::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!has_element_.empty()) {
        if (has_element_.back())
            out_.push_back(',');
        has_element_.back() = true;
    }
}

writer& writer::begin_object() {
    before_value();
    out_.push_back('{');
    has_element_.push_back(false);
    return *this;
}

writer& writer::end_object() {
    assert(!has_element_.empty() && !after_key_);
    has_element_.pop_back();
    out_.push_back('}');
    return *this;
}

writer& writer::begin_array() {
    before_value();
    out_.push_back('[');
    has_element_.push_back(false);
    return *this;
}

writer& writer::end_array() {
    assert(!has_element_.empty() && !after_key_);
    has_element_.pop_back();
    out_.push_back(']');
    return *this;
}

writer& writer::key(std::string_view k) {
    assert(!has_element_.empty() && !after_key_);
    if (has_element_.back())
        out_.push_back(',');
    has_element_.back() = true;
    append_quoted(out_, k);
    out_.push_back(':');
    after_key_ = true;
    return *this;
}

writer& writer::string(std::string_view v) {
    before_value();
    append_quoted(out_, v);
    return *this;
}

writer& writer::number(double v) {
    before_value();
    append_number(out_, v);
    return *this;
}

writer& writer::integer(std::int64_t v) {
    before_value();
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out_.append(buf, end);
    return *this;
}

writer& writer::boolean(bool v) {
    before_value();
    out_.append(v ? "true" : "false");
    return *this;
}

writer& writer::null() {
    before_value();
    out_.append("null");
    return *this;
}

writer& writer::raw(std::string_view json) {
    before_value();
    out_.append(json);
    return *this;
}

} // namespace sfbridge::json
