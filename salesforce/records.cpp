#include "salesforce/records.hpp"

#include "core/text.hpp"

namespace sfbridge::salesforce {

namespace od = simdjson::ondemand;

const field_value* flat_record::get(std::string_view name) const noexcept {
    for (const auto& f : fields)
        if (text::iequals(f.name, name))
            return &f;
    return nullptr;
}

namespace {
// Copies the input into a buffer with simdjson's required padding, reusing its capacity.
simdjson::padded_string_view padded(std::string& buffer, std::string_view json) {
    buffer.assign(json);
    buffer.append(simdjson::SIMDJSON_PADDING, ' ');
    return simdjson::padded_string_view(buffer.data(), json.size(), buffer.size());
}
} // namespace

bool record_reader::read_object(od::object obj, flat_record& out, std::string& error) {
    out.type.clear();
    out.fields.clear();
    for (auto member : obj) {
        std::string_view key;
        if (member.unescaped_key().get(key)) {
            error = "a record field name is not a string";
            return false;
        }
        od::value v;
        if (member.value().get(v)) {
            error = "the value of " + std::string(key) + " is not JSON";
            return false;
        }
        od::json_type t;
        if (v.type().get(t)) {
            error = "the value of " + std::string(key) + " is not JSON";
            return false;
        }
        if (key == "attributes") {
            od::object a;
            if (t == od::json_type::object && !v.get_object().get(a)) {
                std::string_view type;
                if (!a.find_field_unordered("type").get_string().get(type))
                    out.type = type;
            }
            continue;
        }
        field_value f;
        f.name = key;
        switch (t) {
        case od::json_type::null:
            f.kind = sf_value_kind::json_null;
            break;
        case od::json_type::boolean: {
            bool b = false;
            if (v.get_bool().get(b)) {
                error = "the value of " + std::string(key) + " is not a boolean";
                return false;
            }
            f.kind = sf_value_kind::json_bool;
            f.raw = b ? "true" : "false";
            break;
        }
        case od::json_type::number: {
            std::string_view raw = v.raw_json_token();
            while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                                    raw.back() == '\t'))
                raw.remove_suffix(1);
            f.kind = sf_value_kind::json_number;
            f.raw = raw;
            break;
        }
        case od::json_type::string: {
            std::string_view s;
            if (v.get_string().get(s)) {
                error = "the value of " + std::string(key) + " is not a valid string";
                return false;
            }
            f.kind = sf_value_kind::json_string;
            f.raw = s;
            break;
        }
        default:
            continue; // a relationship object, a compound field, a child query: not mapped
        }
        out.fields.push_back(std::move(f));
    }
    return true;
}

bool record_reader::read_record(std::string_view json, flat_record& out, std::string& error) {
    od::document doc;
    od::object obj;
    if (parser_.iterate(padded(buffer_, json)).get(doc) || doc.get_object().get(obj)) {
        error = "a record is not a JSON object";
        return false;
    }
    return read_object(obj, out, error);
}

bool record_reader::read_page(std::string_view json, query_page& out, std::string& error) {
    out = query_page{};
    od::document doc;
    od::object obj;
    if (parser_.iterate(padded(buffer_, json)).get(doc) || doc.get_object().get(obj)) {
        error = "the query answer is not a JSON object";
        return false;
    }
    bool saw_records = false;
    for (auto member : obj) {
        std::string_view key;
        if (member.unescaped_key().get(key)) {
            error = "the query answer is malformed";
            return false;
        }
        if (key == "totalSize") {
            std::int64_t n = 0;
            if (!member.value().get_int64().get(n))
                out.total_size = n;
        } else if (key == "done") {
            bool d = true;
            if (!member.value().get_bool().get(d))
                out.done = d;
        } else if (key == "nextRecordsUrl") {
            std::string_view u;
            if (!member.value().get_string().get(u))
                out.next_records_url = u;
        } else if (key == "records") {
            od::array arr;
            if (member.value().get_array().get(arr)) {
                error = "the query answer's records are not an array";
                return false;
            }
            saw_records = true;
            for (auto element : arr) {
                od::object rec;
                if (element.get_object().get(rec)) {
                    error = "a record in the query answer is not an object";
                    return false;
                }
                flat_record r;
                if (!read_object(rec, r, error))
                    return false;
                out.records.push_back(std::move(r));
            }
        }
    }
    if (!saw_records) {
        error = "the query answer has no records array";
        return false;
    }
    if (!out.done && out.next_records_url.empty()) {
        error = "the query answer is not done but has no nextRecordsUrl";
        return false;
    }
    return true;
}

} // namespace sfbridge::salesforce
