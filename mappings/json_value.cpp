#include "mappings/json_value.hpp"

#include "core/json_writer.hpp"

#include <simdjson.h>

#include <cmath>

namespace sfbridge::mappings {

const json_value::object* json_value::as_object() const noexcept {
    auto p = std::get_if<std::shared_ptr<object>>(&v_);
    return p ? p->get() : nullptr;
}

const json_value::array* json_value::as_array() const noexcept {
    auto p = std::get_if<std::shared_ptr<array>>(&v_);
    return p ? p->get() : nullptr;
}

bool operator==(const json_value& a, const json_value& b) {
    if (a.v_.index() != b.v_.index())
        return false;
    if (const auto* o = a.as_object())
        return *o == *b.as_object();
    if (const auto* arr = a.as_array())
        return *arr == *b.as_array();
    return a.v_ == b.v_;
}

void json_value::write(std::string& out, int indent) const {
    const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
    const std::string close(static_cast<std::size_t>(indent), ' ');
    switch (v_.index()) {
    case 0:
        out += "null";
        return;
    case 1:
        out += std::get<bool>(v_) ? "true" : "false";
        return;
    case 2:
        out += std::to_string(std::get<std::int64_t>(v_));
        return;
    case 3: {
        // A number read with a fraction or exponent stays one: 300.0 is written "300.0", not
        // "300", which would read back as an integer (found by fuzzing the mapping file).
        const double d = std::get<double>(v_);
        json::append_number(out, d);
        if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9007199254740992.0)
            out += ".0";
        return;
    }
    case 4:
        json::append_quoted(out, std::get<std::string>(v_));
        return;
    case 5: {
        const object& o = *as_object();
        if (o.empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        bool first = true;
        for (const auto& [k, v] : o) {
            out += first ? "" : ",\n";
            first = false;
            out += pad;
            json::append_quoted(out, k);
            out += ": ";
            v.write(out, indent + 2);
        }
        out += "\n" + close + "}";
        return;
    }
    default: {
        const array& a = *as_array();
        if (a.empty()) {
            out += "[]";
            return;
        }
        out += "[\n";
        for (std::size_t i = 0; i < a.size(); ++i) {
            out += i ? ",\n" : "";
            out += pad;
            a[i].write(out, indent + 2);
        }
        out += "\n" + close + "]";
    }
    }
}

std::string json_value::dump() const {
    std::string out;
    write(out, 0);
    out += '\n';
    return out;
}

namespace {

json_value convert(simdjson::dom::element e) {
    switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
        json_value::object o;
        for (auto [k, v] : simdjson::dom::object(e))
            o[std::string(k)] = convert(v);
        return o;
    }
    case simdjson::dom::element_type::ARRAY: {
        json_value::array a;
        for (auto v : simdjson::dom::array(e))
            a.push_back(convert(v));
        return a;
    }
    case simdjson::dom::element_type::STRING:
        return std::string(std::string_view(e));
    case simdjson::dom::element_type::INT64:
        return std::int64_t(e);
    case simdjson::dom::element_type::UINT64:
        return static_cast<double>(std::uint64_t(e));
    case simdjson::dom::element_type::DOUBLE:
        return double(e);
    case simdjson::dom::element_type::BOOL:
        return bool(e);
    case simdjson::dom::element_type::NULL_VALUE:
        return {};
    }
    return {};
}

} // namespace

std::optional<json_value> parse_json(std::string_view text, std::string& error) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (auto err = parser.parse(text.data(), text.size()).get(root)) {
        error = std::string("not valid JSON: ") + simdjson::error_message(err);
        return std::nullopt;
    }
    return convert(root);
}

} // namespace sfbridge::mappings
