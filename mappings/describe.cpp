#include "mappings/describe.hpp"

#include "core/text.hpp"
#include "mappings/json_value.hpp"

namespace sfbridge::mappings {

namespace {
bool flag(const json_value::object& o, const char* key, bool fallback) {
    auto it = o.find(key);
    if (it == o.end())
        return fallback;
    const bool* b = it->second.as_bool();
    return b ? *b : fallback;
}

std::string str(const json_value::object& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end())
        return {};
    const std::string* s = it->second.as_string();
    return s ? *s : std::string();
}

int integer(const json_value::object& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end())
        return 0;
    if (const auto* i = it->second.as_int())
        return static_cast<int>(*i);
    return 0;
}
} // namespace

const field_describe* object_describe::field(std::string_view api_name) const noexcept {
    for (const auto& f : fields)
        if (text::iequals(f.info.name, api_name))
            return &f;
    return nullptr;
}

std::optional<object_describe> parse_describe(std::string_view json, std::string& error) {
    auto root = parse_json(json, error);
    if (!root)
        return std::nullopt;
    const auto* o = root->as_object();
    if (!o) {
        error = "a describe is a JSON object";
        return std::nullopt;
    }
    object_describe d;
    d.name = str(*o, "name");
    if (d.name.empty()) {
        error = "the describe has no \"name\"";
        return std::nullopt;
    }
    d.key_prefix = str(*o, "keyPrefix");
    d.queryable = flag(*o, "queryable", true);
    d.createable = flag(*o, "createable", false);
    d.updateable = flag(*o, "updateable", false);
    d.deletable = flag(*o, "deletable", false);
    d.replicateable = flag(*o, "replicateable", true);
    auto fit = o->find("fields");
    const auto* fields = fit == o->end() ? nullptr : fit->second.as_array();
    if (!fields) {
        error = "the describe of " + d.name + " has no \"fields\" array";
        return std::nullopt;
    }
    d.fields.reserve(fields->size());
    for (const auto& fv : *fields) {
        const auto* f = fv.as_object();
        if (!f)
            continue;
        field_describe fd;
        fd.info.name = str(*f, "name");
        fd.info.type = str(*f, "type");
        if (fd.info.name.empty() || fd.info.type.empty()) {
            error = "a field of " + d.name + " has no name or type";
            return std::nullopt;
        }
        fd.info.length = integer(*f, "length");
        fd.info.extra_type_info = str(*f, "extraTypeInfo");
        fd.info.html_formatted = flag(*f, "htmlFormatted", false);
        fd.createable = flag(*f, "createable", false);
        fd.updateable = flag(*f, "updateable", false);
        fd.nillable = flag(*f, "nillable", true);
        fd.external_id = flag(*f, "externalId", false);
        fd.unique = flag(*f, "unique", false);
        fd.id_lookup = flag(*f, "idLookup", false);
        fd.calculated = flag(*f, "calculated", false);
        fd.filterable = flag(*f, "filterable", true);
        fd.defaulted_on_create = flag(*f, "defaultedOnCreate", false);
        fd.deprecated_and_hidden = flag(*f, "deprecatedAndHidden", false);
        fd.compound_field_name = str(*f, "compoundFieldName");
        fd.relationship_name = str(*f, "relationshipName");
        if (auto r = f->find("referenceTo"); r != f->end())
            if (const auto* arr = r->second.as_array())
                for (const auto& t : *arr)
                    if (const auto* s = t.as_string())
                        fd.reference_to.push_back(*s);
        d.fields.push_back(std::move(fd));
    }
    return d;
}

} // namespace sfbridge::mappings
