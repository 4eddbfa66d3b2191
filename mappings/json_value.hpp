#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// A small JSON value for configuration documents: objects keep their keys sorted (so output is
// canonical), integers stay integers, and nothing is lost between reading and writing. Not for
// hot paths: events never pass through it.
namespace sfbridge::mappings {

class json_value {
public:
    using object = std::map<std::string, json_value>;
    using array = std::vector<json_value>;

    json_value() = default; // null
    json_value(bool b) : v_(b) {}
    json_value(std::int64_t i) : v_(i) {}
    json_value(int i) : v_(static_cast<std::int64_t>(i)) {}
    json_value(double d) : v_(d) {}
    json_value(std::string s) : v_(std::move(s)) {}
    json_value(const char* s) : v_(std::string(s)) {}
    json_value(object o) : v_(std::make_shared<object>(std::move(o))) {}
    json_value(array a) : v_(std::make_shared<array>(std::move(a))) {}

    [[nodiscard]] bool is_null() const noexcept { return v_.index() == 0; }
    [[nodiscard]] const bool* as_bool() const noexcept { return std::get_if<bool>(&v_); }
    [[nodiscard]] const std::int64_t* as_int() const noexcept {
        return std::get_if<std::int64_t>(&v_);
    }
    [[nodiscard]] const double* as_double() const noexcept { return std::get_if<double>(&v_); }
    [[nodiscard]] const std::string* as_string() const noexcept {
        return std::get_if<std::string>(&v_);
    }
    [[nodiscard]] const object* as_object() const noexcept;
    [[nodiscard]] const array* as_array() const noexcept;

    // Canonical text: sorted keys, two-space indentation, a newline at the end of the document.
    [[nodiscard]] std::string dump() const;

    friend bool operator==(const json_value& a, const json_value& b);

private:
    void write(std::string& out, int indent) const;
    std::variant<std::monostate, bool, std::int64_t, double, std::string, std::shared_ptr<object>,
                 std::shared_ptr<array>>
        v_;
};

// Parses JSON text; nullopt with `error` set (our words, with the position) when it is not JSON.
[[nodiscard]] std::optional<json_value> parse_json(std::string_view text, std::string& error);

} // namespace sfbridge::mappings
