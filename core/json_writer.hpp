#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::json {

// Appends `s` as a JSON string literal (quotes included). Control characters, quotes and
// backslashes are escaped; invalid UTF-8 is passed through unchanged (the caller owns encoding).
void append_quoted(std::string& out, std::string_view s);

// Appends a double in the shortest form that reads back to the same value; integral values
// print without a fraction (42, not 42.0). Non-finite values print as null: JSON has no NaN.
void append_number(std::string& out, double v);

// A streaming JSON writer into a string: no DOM, no allocation beyond the output buffer. Commas
// are inserted automatically. Misuse (a value where a key is due) is a programming error and is
// caught by assertions in debug builds.
class writer {
public:
    explicit writer(std::string& out) : out_(out) {}

    writer& begin_object();
    writer& end_object();
    writer& begin_array();
    writer& end_array();
    writer& key(std::string_view k);

    writer& string(std::string_view v);
    writer& number(double v);
    writer& integer(std::int64_t v);
    writer& boolean(bool v);
    writer& null();
    // Inserts already-serialised JSON as one value (e.g. an event payload kept as text).
    writer& raw(std::string_view json);

    // Shorthands for a member.
    writer& member(std::string_view k, std::string_view v) { return key(k).string(v); }
    writer& member(std::string_view k, const char* v) { return key(k).string(v); }
    writer& member(std::string_view k, bool v) { return key(k).boolean(v); }
    writer& member(std::string_view k, int v) { return key(k).integer(v); }
    writer& member(std::string_view k, std::int64_t v) { return key(k).integer(v); }
    writer& member(std::string_view k, double v) { return key(k).number(v); }

private:
    void before_value();
    std::string& out_;
    // One entry per open container: true once it holds an element.
    std::vector<bool> has_element_;
    bool after_key_ = false;
};

} // namespace sfbridge::json
