#include "mappings/options.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace sfbridge::mappings {

namespace {
constexpr std::string_view prefix = "sfbridge_";

void read_stream(const json_value& v, const std::string& where, mapping_options& o,
                 std::vector<std::string>& errors) {
    const std::string* s = v.as_string();
    if (s && *s == "cdc")
        o.change_data_capture = true;
    else if (!s || *s != "pushtopic")
        errors.push_back(where + ": sfbridge_stream must be \"pushtopic\" (the default) or "
                                 "\"cdc\" (Change Data Capture)");
}

void read_deletes(const json_value& v, const std::string& where, mapping_options& o,
                  std::vector<std::string>& errors) {
    const std::string* s = v.as_string();
    if (s && *s == "soft")
        o.deletes = delete_mode::soft;
    else if (!s || *s != "hard")
        errors.push_back(where + ": sfbridge_deletes must be \"hard\" (the default: a deleted "
                                 "record's row is removed) or \"soft\" (the row stays, marked)");
}

void read_filter(const json_value& v, const std::string& where, mapping_options& o,
                 std::vector<std::string>& errors) {
    const std::string* s = v.as_string();
    if (!s || s->empty()) {
        errors.push_back(where + ": sfbridge_filter must be a SOQL condition, such as "
                                 "\"Status__c = 'Active' AND Region__c IN ('EU', 'US')\"");
        return;
    }
    if (s->size() > max_filter_length) {
        // The stream's fetches carry it in their URLs, under Salesforce's 16 KB limit.
        errors.push_back(where + ": sfbridge_filter is longer than " +
                         std::to_string(max_filter_length) + " characters");
        return;
    }
    std::string error;
    o.filter = parse_filter(*s, error);
    o.filter_text = *s;
    if (!o.filter)
        errors.push_back(where + ": sfbridge_filter: " + error);
}

void read_refresh(const json_value& v, const std::string& where, mapping_options& o,
                  std::vector<std::string>& errors) {
    const std::int64_t* n = v.as_int();
    if (!n || *n < min_refresh_seconds || *n > max_refresh_seconds) {
        errors.push_back(where +
                         ": sfbridge_refresh_seconds must be a whole number of seconds "
                         "from " +
                         std::to_string(min_refresh_seconds) + " to " +
                         std::to_string(max_refresh_seconds));
        return;
    }
    o.refresh_seconds = *n;
}

void add_read_only(mapping_options& o, const std::string& name) {
    if (std::none_of(o.read_only_fields.begin(), o.read_only_fields.end(),
                     [&](const std::string& x) { return text::iequals(x, name); }))
        o.read_only_fields.push_back(name);
}

void read_read_only_fields(const json_value& v, const std::string& where, mapping_options& o,
                           std::vector<std::string>& errors) {
    const auto* list = v.as_array();
    if (!list) {
        errors.push_back(where + ": sfbridge_read_only_fields must be a list of field names");
        return;
    }
    for (const auto& item : *list) {
        const std::string* name = item.as_string();
        if (!name || name->empty()) {
            errors.push_back(where + ": sfbridge_read_only_fields must be a list of field names");
            return;
        }
        add_read_only(o, *name);
    }
}

// A field's own options: {"sfbridge_write": false}.
void read_field_options(const std::string& field, const json_value& options,
                        const std::string& where, mapping_options& o,
                        std::vector<std::string>& errors) {
    const auto* obj = options.as_object();
    if (!obj)
        return; // Heroku Connect writes {}; anything else is its business
    for (const auto& [key, v] : *obj) {
        if (!key.starts_with(prefix))
            continue;
        if (key != "sfbridge_write") {
            errors.push_back(where + ": field " + field + ": unknown option " + key +
                             " (a field knows sfbridge_write)");
            continue;
        }
        const bool* b = v.as_bool();
        if (!b) {
            errors.push_back(where + ": field " + field + ": sfbridge_write must be true or false");
            continue;
        }
        if (!*b)
            add_read_only(o, field);
    }
}
} // namespace

mapping_options read_mapping_options(const mapping& m, std::vector<std::string>& errors) {
    const std::string where = "mapping " + m.object_name;
    mapping_options o;
    for (const auto& [key, v] : m.extra_config) {
        if (!key.starts_with(prefix))
            continue;
        if (key == "sfbridge_stream")
            read_stream(v, where, o, errors);
        else if (key == "sfbridge_deletes")
            read_deletes(v, where, o, errors);
        else if (key == "sfbridge_read_only_fields")
            read_read_only_fields(v, where, o, errors);
        else if (key == "sfbridge_filter")
            read_filter(v, where, o, errors);
        else if (key == "sfbridge_refresh_seconds")
            read_refresh(v, where, o, errors);
        else
            errors.push_back(where + ": unknown option " + key +
                             " (sfbridge knows sfbridge_stream, sfbridge_deletes, "
                             "sfbridge_read_only_fields, sfbridge_filter and "
                             "sfbridge_refresh_seconds)");
    }
    for (const auto& [field, options] : m.fields)
        read_field_options(field, options, where, o, errors);
    return o;
}

} // namespace sfbridge::mappings
