#include "mappings/mapping_builder.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace sfbridge::mappings {
namespace {

bool compound(const field_describe& f) {
    const std::string type = text::ascii_lower(f.info.type);
    return type == "address" || type == "location";
}

// Adds `f` (or, for a compound field, its parts) to the mapping; a note when it cannot go in.
void take(const object_describe& d, const field_describe& f, built_mapping& out) {
    const std::string& name = f.info.name;
    if (f.deprecated_and_hidden) {
        out.notes.push_back(name + ": left out, deprecated and hidden (it cannot be queried)");
        return;
    }
    if (text::iequals(f.info.type, "base64")) {
        out.notes.push_back(name + ": left out, a base64 field (Salesforce returns those one "
                                   "record at a time)");
        return;
    }
    if (compound(f)) {
        std::string parts;
        for (const auto& p : d.fields)
            if (p.compound_field_name == name && &p != &f) {
                out.m.fields.emplace(p.info.name, json_value::object{});
                parts += (parts.empty() ? "" : ", ") + p.info.name;
            }
        out.notes.push_back(name + ": mapped as its parts, as Heroku Connect flattens it (" +
                            parts + ")");
        return;
    }
    out.m.fields.emplace(name, json_value::object{});
}

} // namespace

std::optional<built_mapping> build_mapping(const object_describe& d, const mapping_request& req,
                                           std::string& error) {
    if (!d.queryable) {
        error = d.name + " cannot be queried by the integration user";
        return std::nullopt;
    }
    built_mapping out;
    out.m.object_name = d.name;
    out.m.access = req.access;
    out.m.sf_notify_enabled = true;
    out.m.sf_polling_seconds = 600;
    for (std::string_view always : {"Id", "SystemModstamp", "IsDeleted"})
        if (const auto* f = d.field(always))
            out.m.fields.emplace(f->info.name, json_value::object{});
    if (req.all) {
        for (const auto& f : d.fields) {
            // Parts of an address or location come with it; Contact's FirstName and LastName
            // name Name as their compound field too, but Name is a plain string.
            const field_describe* parent =
                f.compound_field_name.empty() ? nullptr : d.field(f.compound_field_name);
            if (!parent || !compound(*parent))
                take(d, f, out);
        }
        return out;
    }
    for (const auto& name : req.fields) {
        const field_describe* f = d.field(name);
        if (!f) {
            error = d.name + " has no field " + name +
                    " that the integration user can read (a field hidden by field-level "
                    "security is not in the describe)";
            return std::nullopt;
        }
        take(d, *f, out);
    }
    return out;
}

bool add_mapping(mapping_file& file, mapping m, std::string& error) {
    if (std::any_of(file.mappings.begin(), file.mappings.end(), [&](const mapping& x) {
            return text::iequals(x.object_name, m.object_name);
        })) {
        error =
            "the file maps " + m.object_name + " already: edit that mapping (or remove it first)";
        return false;
    }
    file.mappings.push_back(std::move(m));
    return true;
}

} // namespace sfbridge::mappings
