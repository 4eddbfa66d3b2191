#include "sim/schema.hpp"

#include "core/text.hpp"

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sfbridge::sim {
namespace od = simdjson::ondemand;

std::string to_lower(std::string_view s) {
    return text::ascii_lower(s);
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return text::iequals(a, b);
}

field_type parse_field_type(std::string_view t) noexcept {
    static const std::pair<std::string_view, field_type> table[] = {
        {"id", field_type::id},
        {"string", field_type::string},
        {"boolean", field_type::boolean},
        {"int", field_type::integer},
        {"long", field_type::integer},
        {"double", field_type::double_},
        {"currency", field_type::currency},
        {"percent", field_type::percent},
        {"date", field_type::date},
        {"datetime", field_type::datetime},
        {"time", field_type::time},
        {"picklist", field_type::picklist},
        {"multipicklist", field_type::multipicklist},
        {"combobox", field_type::combobox},
        {"reference", field_type::reference},
        {"textarea", field_type::textarea},
        {"email", field_type::email},
        {"phone", field_type::phone},
        {"url", field_type::url},
        {"base64", field_type::base64},
        {"encryptedstring", field_type::encryptedstring},
        {"address", field_type::address},
        {"location", field_type::location},
        {"anyType", field_type::anytype},
    };
    for (const auto& [name, type] : table)
        if (name == t)
            return type;
    return field_type::other;
}

bool is_text_type(field_type t) noexcept {
    switch (t) {
    case field_type::string:
    case field_type::picklist:
    case field_type::multipicklist:
    case field_type::combobox:
    case field_type::textarea:
    case field_type::email:
    case field_type::phone:
    case field_type::url:
    case field_type::encryptedstring:
    case field_type::base64:
        return true;
    default:
        return false;
    }
}

bool is_number_type(field_type t) noexcept {
    return t == field_type::integer || t == field_type::double_ || t == field_type::currency ||
           t == field_type::percent;
}

const field_def* object_def::find(std::string_view field) const noexcept {
    const int i = index_of(field);
    return i < 0 ? nullptr : &fields[static_cast<std::size_t>(i)];
}

int object_def::index_of(std::string_view field) const noexcept {
    auto it = by_lname.find(to_lower(field));
    return it == by_lname.end() ? -1 : it->second;
}

std::string object_def::describe(std::string_view version) const {
    std::string out;
    out.reserve(describe_template.size() + 64);
    const std::string_view marker = "{{api}}";
    const std::string replacement = "/services/data/v" + std::string(version);
    std::size_t pos = 0;
    for (;;) {
        const std::size_t hit = describe_template.find(marker, pos);
        if (hit == std::string::npos)
            break;
        out.append(describe_template, pos, hit - pos);
        out.append(replacement);
        pos = hit + marker.size();
    }
    out.append(describe_template, pos);
    return out;
}

namespace {

[[noreturn]] void bad(std::string_view origin, const std::string& what) {
    throw std::runtime_error("schema " + std::string(origin) + ": " + what);
}

std::string str(od::value v) {
    if (v.is_null())
        return {};
    std::string_view s;
    if (v.get_string().get(s))
        return {};
    return std::string(s);
}

bool boolean(od::value v) {
    bool b = false;
    if (v.get_bool().get(b))
        return false;
    return b;
}

int integer(od::value v) {
    std::int64_t i = 0;
    if (v.get_int64().get(i))
        return 0;
    return static_cast<int>(i);
}

// Describe keys read straight into a member: one table instead of a chain of ifs.
template <class T>
struct binding {
    std::string_view key;
    std::string T::*text = nullptr;
    bool T::*flag = nullptr;
    int T::*number = nullptr;
};

template <class T, std::size_t N>
bool bind(const binding<T> (&table)[N], std::string_view key, od::value v, T& out) {
    for (const auto& b : table) {
        if (b.key != key)
            continue;
        if (b.text)
            out.*(b.text) = str(v);
        else if (b.flag)
            out.*(b.flag) = boolean(v);
        else
            out.*(b.number) = integer(v);
        return true;
    }
    return false;
}

const binding<field_def> field_keys[] = {
    {"name", &field_def::name},
    {"type", &field_def::type_name},
    {"label", &field_def::label},
    {"relationshipName", &field_def::relationship_name},
    {"compoundFieldName", &field_def::compound_field_name},
    {"nillable", nullptr, &field_def::nillable},
    {"createable", nullptr, &field_def::createable},
    {"updateable", nullptr, &field_def::updateable},
    {"defaultedOnCreate", nullptr, &field_def::defaulted_on_create},
    {"calculated", nullptr, &field_def::calculated},
    {"externalId", nullptr, &field_def::external_id},
    {"unique", nullptr, &field_def::unique},
    {"idLookup", nullptr, &field_def::id_lookup},
    {"autoNumber", nullptr, &field_def::auto_number},
    {"filterable", nullptr, &field_def::filterable},
    {"restrictedPicklist", nullptr, &field_def::restricted_picklist},
    {"length", nullptr, nullptr, &field_def::length},
    {"precision", nullptr, nullptr, &field_def::precision},
    {"scale", nullptr, nullptr, &field_def::scale},
    {"digits", nullptr, nullptr, &field_def::digits},
};

const binding<object_def> object_keys[] = {
    {"name", &object_def::name},
    {"keyPrefix", &object_def::key_prefix},
    {"label", &object_def::label},
    {"labelPlural", &object_def::label_plural},
    {"custom", nullptr, &object_def::custom},
    {"createable", nullptr, &object_def::createable},
    {"updateable", nullptr, &object_def::updateable},
    {"deletable", nullptr, &object_def::deletable},
    {"queryable", nullptr, &object_def::queryable},
    {"undeletable", nullptr, &object_def::undeletable},
};

void parse_field_into(od::object obj, field_def& f) {
    for (auto member : obj) {
        std::string_view key;
        if (member.unescaped_key().get(key))
            continue;
        od::value v = member.value();
        if (bind(field_keys, key, v, f))
            continue;
        if (key == "defaultValue") {
            bool b;
            if (!v.is_null() && !v.get_bool().get(b))
                f.default_boolean = b;
        } else if (key == "referenceTo") {
            od::array a;
            if (!v.get_array().get(a))
                for (auto e : a) {
                    std::string_view s;
                    if (!e.get_string().get(s))
                        f.reference_to.emplace_back(s);
                }
        } else if (key == "picklistValues") {
            od::array a;
            f.picklist_values.clear();
            if (!v.get_array().get(a))
                for (auto e : a) {
                    od::object p;
                    if (e.get_object().get(p))
                        continue;
                    std::string value;
                    bool active = true, is_default = false;
                    for (auto pm : p) {
                        std::string_view pk;
                        if (pm.unescaped_key().get(pk))
                            continue;
                        if (pk == "value")
                            value = str(pm.value());
                        else if (pk == "active")
                            active = boolean(pm.value());
                        else if (pk == "defaultValue")
                            is_default = boolean(pm.value());
                    }
                    if (active)
                        f.picklist_values.push_back(value);
                    if (is_default)
                        f.default_picklist_value = value;
                }
        }
    }
    f.lname = to_lower(f.name);
    if (f.label.empty())
        f.label = f.name;
    f.type = parse_field_type(f.type_name);
}

field_def parse_field(od::object obj) {
    field_def f;
    parse_field_into(obj, f);
    return f;
}

std::unique_ptr<object_def> parse_object(od::object obj, std::string_view raw,
                                         std::string_view origin) {
    auto o = std::make_unique<object_def>();
    for (auto member : obj) {
        std::string_view key;
        if (member.unescaped_key().get(key))
            continue;
        od::value v = member.value();
        if (bind(object_keys, key, v, *o))
            continue;
        if (key == "fields") {
            od::array a;
            if (v.get_array().get(a))
                bad(origin, "\"fields\" is not an array");
            for (auto e : a) {
                od::object fo;
                if (e.get_object().get(fo))
                    bad(origin, "a field is not an object");
                o->fields.push_back(parse_field(fo));
            }
        }
    }
    if (o->name.empty())
        bad(origin, "a describe has no \"name\"");
    if (o->fields.empty())
        bad(origin, o->name + " has no fields");
    for (std::size_t i = 0; i < o->fields.size(); ++i)
        o->by_lname[o->fields[i].lname] = static_cast<int>(i);
    for (const char* required : {"Id", "SystemModstamp", "CreatedDate", "LastModifiedDate"})
        if (!o->has_field(required))
            bad(origin, o->name + " lacks the system field " + required);

    // Keep the text to serve it, with the API version made a placeholder.
    std::string t;
    t.reserve(raw.size());
    const std::string_view prefix = "/services/data/v";
    std::size_t pos = 0;
    for (;;) {
        const std::size_t hit = raw.find(prefix, pos);
        if (hit == std::string_view::npos)
            break;
        std::size_t end = hit + prefix.size();
        while (end < raw.size() && raw[end] != '/' && raw[end] != '"')
            ++end;
        t.append(raw.substr(pos, hit - pos));
        t.append("{{api}}");
        pos = end;
    }
    t.append(raw.substr(pos));
    o->describe_template = std::move(t);
    return o;
}

} // namespace

void schema::add(std::unique_ptr<object_def> o) {
    const std::string key = to_lower(o->name);
    if (auto it = by_lname_.find(key); it != by_lname_.end()) {
        objects_[it->second] = std::move(o);
        return;
    }
    by_lname_[key] = objects_.size();
    objects_.push_back(std::move(o));
}

void schema::load_text(std::string_view json, std::string_view origin) {
    od::parser parser;
    simdjson::padded_string padded(json);
    od::document doc;
    if (parser.iterate(padded).get(doc))
        bad(origin, "not JSON");
    od::json_type type;
    if (doc.type().get(type))
        bad(origin, "not JSON");
    if (type == od::json_type::object) {
        od::object obj;
        if (doc.get_object().get(obj))
            bad(origin, "not a JSON object");
        add(parse_object(obj, json, origin));
        return;
    }
    if (type != od::json_type::array)
        bad(origin, "expected a describe object or an array of them");
    od::array arr;
    if (doc.get_array().get(arr))
        bad(origin, "not a JSON array");
    for (auto e : arr) {
        od::object obj;
        if (e.get_object().get(obj))
            bad(origin, "an array element is not an object");
        std::string_view raw;
        if (obj.raw_json().get(raw))
            bad(origin, "unreadable describe");
        // raw_json consumed the object: parse that text on its own.
        schema one;
        one.load_text(raw, origin);
        for (auto& o : one.objects_)
            add(std::move(o));
    }
}

void schema::load_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
        bad(file.string(), "cannot be read");
    std::stringstream ss;
    ss << in.rdbuf();
    load_text(ss.str(), file.string());
}

void schema::load_directory(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ".json")
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty())
        bad(dir.string(), "holds no .json describe");
    for (const auto& f : files)
        load_file(f);
}

bool read_field(std::string_view json, field_def& f, std::string& error) {
    od::parser parser;
    simdjson::padded_string padded(json);
    od::document doc;
    od::object obj;
    if (parser.iterate(padded).get(doc) || doc.get_object().get(obj)) {
        error = "a field is a JSON object";
        return false;
    }
    // A partial field: picklist values are replaced only when given.
    parse_field_into(obj, f);
    return true;
}

object_def* schema::find_mutable(std::string_view name) noexcept {
    auto it = by_lname_.find(to_lower(name));
    return it == by_lname_.end() ? nullptr : objects_[it->second].get();
}

const object_def* schema::find(std::string_view name) const noexcept {
    auto it = by_lname_.find(to_lower(name));
    return it == by_lname_.end() ? nullptr : objects_[it->second].get();
}

const object_def* schema::by_key_prefix(std::string_view prefix) const noexcept {
    for (const auto& o : objects_)
        if (o->key_prefix == prefix)
            return o.get();
    return nullptr;
}

} // namespace sfbridge::sim
