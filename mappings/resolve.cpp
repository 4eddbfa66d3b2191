#include "mappings/resolve.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <set>

namespace sfbridge::mappings {

const mapped_field* resolved_mapping::field(std::string_view api_name) const noexcept {
    for (const auto& f : fields)
        if (text::iequals(f.sf.info.name, api_name))
            return &f;
    return nullptr;
}

bool resolved_mapping::is_missing(std::string_view api_name) const noexcept {
    for (const auto& n : missing_fields)
        if (text::iequals(n, api_name))
            return true;
    return false;
}

bool resolved_mapping::has_calculated_fields() const noexcept {
    return std::any_of(fields.begin(), fields.end(), [](const mapped_field& f) {
        return f.sf.calculated && f.column != "sfid" && f.column != "systemmodstamp";
    });
}

std::string resolved_mapping::filter_soql() const {
    return options.filter ? mappings::filter_soql(*options.filter) : std::string();
}

const mapped_field* resolved_mapping::by_column(std::string_view column) const noexcept {
    for (const auto& f : fields)
        if (f.column == column)
            return &f;
    return nullptr;
}

const reference_column*
resolved_mapping::reference_by_column(std::string_view column) const noexcept {
    for (const auto& r : references)
        if (r.column == column)
            return &r;
    return nullptr;
}

std::string change_event_channel(std::string_view object_name) {
    std::string name(object_name);
    if (name.size() > 3 && text::iequals(std::string_view(name).substr(name.size() - 3), "__c"))
        return "/data/" + name.substr(0, name.size() - 3) + "__ChangeEvent";
    return "/data/" + name + "ChangeEvent";
}

std::vector<std::string> resolved_mapping::field_names() const {
    std::vector<std::string> out;
    out.reserve(fields.size());
    for (const auto& f : fields)
        out.push_back(f.sf.info.name);
    return out;
}

namespace {
// Fields Salesforce maintains itself: never sent on a write, whatever the describe says.
// `Parent__r__External_Id__c` -> the lookup whose relationship is Parent__r (or Account for
// Account__r__...): Heroku Connect's columns drop the relationship's own "__r".
std::optional<reference_column> reference_for(const object_describe& d, std::string_view name) {
    const std::string lower = text::ascii_lower(name);
    const auto at = lower.find("__r__");
    if (at == std::string::npos || at == 0 || at + 5 >= lower.size())
        return std::nullopt;
    const std::string base = lower.substr(0, at);
    for (const auto& f : d.fields) {
        if (f.relationship_name.empty() || f.reference_to.empty())
            continue;
        std::string rel = text::ascii_lower(f.relationship_name);
        if (rel.ends_with("__r"))
            rel.resize(rel.size() - 3);
        if (rel != base)
            continue;
        reference_column r;
        r.column = pg_identifier(lower);
        r.relationship = f.relationship_name;
        r.lookup_field = f.info.name;
        r.parent_object = f.reference_to[0];
        r.external_field = std::string(name.substr(at + 5));
        r.writable_on_create = f.createable;
        r.writable_on_update = f.updateable;
        return r;
    }
    return std::nullopt;
}

bool is_system_field(std::string_view name) {
    for (std::string_view s : {"Id", "IsDeleted", "SystemModstamp", "CreatedDate", "CreatedById",
                               "LastModifiedDate", "LastModifiedById"})
        if (text::iequals(name, s))
            return true;
    return false;
}

// sfbridge_read_only_fields: each must be a mapped field; it is synced in, never written back.
void apply_read_only_fields(resolved_mapping& r, const std::string& where,
                            std::vector<std::string>& errors) {
    for (const auto& name : r.options.read_only_fields) {
        auto it = std::find_if(r.fields.begin(), r.fields.end(), [&](const mapped_field& f) {
            return text::iequals(f.sf.info.name, name);
        });
        if (it == r.fields.end() && r.is_missing(name))
            continue; // gone from Salesforce: named above
        if (it == r.fields.end()) {
            errors.push_back(where + ": sfbridge_read_only_fields: " + name +
                             " is not a mapped field");
            continue;
        }
        it->app_read_only = true;
        it->writable_on_create = it->writable_on_update = false;
    }
}

// sfbridge_filter: it reads mapped fields only, each with literals of its type.
void check_mapping_filter(resolved_mapping& r, const std::string& where,
                          std::vector<std::string>& errors) {
    if (!r.options.filter)
        return;
    std::string error;
    const auto mapped = [&](std::string_view name) -> const field_describe* {
        const mapped_field* f = r.field(name);
        return f ? &f->sf : nullptr;
    };
    if (!check_filter(*r.options.filter, mapped, error))
        errors.push_back(where + ": sfbridge_filter: " + error);
}
} // namespace

std::optional<resolved_mapping> resolve_mapping(const mapping& m, const object_describe* d,
                                                std::vector<std::string>& errors,
                                                std::vector<std::string>& warnings) {
    const std::string where = "mapping " + m.object_name;
    const std::size_t errors_before = errors.size();
    if (!d) {
        errors.push_back(where + ": Salesforce has no object named " + m.object_name +
                         " (or the integration user cannot see it)");
        return std::nullopt;
    }
    if (!d->queryable) {
        errors.push_back(where + ": " + d->name + " cannot be queried");
        return std::nullopt;
    }
    resolved_mapping r;
    r.config = m;
    r.options = read_mapping_options(m, errors);
    r.object_name = d->name;
    r.table = column_name(d->name);

    // The set of API names to map, compound fields replaced by their parts.
    std::set<std::string> names;
    auto add = [&](const field_describe& f) { names.insert(f.info.name); };
    for (const auto& [name, options] : m.fields) {
        const field_describe* f = d->field(name);
        if (!f) {
            if (auto ref = reference_for(*d, name)) {
                if (!r.read_write())
                    ref->writable_on_create = ref->writable_on_update = false;
                r.references.push_back(std::move(*ref));
                continue;
            }
            // Deleted in Salesforce or hidden from the integration user (or misspelt): the
            // mapping goes on without it rather than stopping every mapping's start.
            warnings.push_back(where + ": field " + name + ": " + d->name + " has no such field" +
                               (text::ascii_lower(name).find("__r__") != std::string::npos
                                    ? " (nor a lookup with that relationship name)"
                                    : "") +
                               " (deleted, or hidden from the integration user): syncing "
                               "without it");
            r.missing_fields.push_back(name);
            continue;
        }
        if (f->deprecated_and_hidden) {
            warnings.push_back(where + ": field " + name +
                               ": deprecated and hidden, cannot be queried: syncing without it");
            r.missing_fields.push_back(name);
            continue;
        }
        const std::string type = text::ascii_lower(f->info.type);
        if (type == "base64") {
            errors.push_back(where + ": field " + name +
                             ": base64 fields are returned one record at a time and cannot be "
                             "synchronised");
            continue;
        }
        if (type == "address" || type == "location") {
            for (const auto& part : d->fields)
                if (part.compound_field_name == f->info.name && &part != f)
                    add(part);
            continue;
        }
        add(*f);
    }
    for (std::string_view always : {"Id", "SystemModstamp", "IsDeleted"}) {
        if (const field_describe* f = d->field(always))
            add(*f);
        else if (always != "IsDeleted")
            errors.push_back(where + ": " + d->name + " has no " + std::string(always) +
                             " field, which synchronisation needs");
    }
    r.has_isdeleted = d->field("IsDeleted") != nullptr;

    for (const auto& name : names) {
        const field_describe* f = d->field(name);
        mapped_field mf;
        mf.sf = *f;
        mf.column = text::iequals(name, "Id") ? "sfid" : column_name(f->info.name);
        mf.pg_type = postgres_type(f->info).value_or("text");
        if (r.read_write() && !is_system_field(name)) {
            mf.writable_on_create = f->createable;
            mf.writable_on_update = f->updateable;
            if (!f->createable && !f->updateable && !f->calculated &&
                f->compound_field_name.empty())
                warnings.push_back(where + ": field " + f->info.name +
                                   ": Salesforce does not let this user write it; it is read-only "
                                   "in this mapping");
        }
        r.fields.push_back(std::move(mf));
    }
    std::stable_sort(r.fields.begin(), r.fields.end(), [](const auto& a, const auto& b) {
        return (a.column == "sfid") > (b.column == "sfid");
    });

    if (m.upsert_field) {
        const field_describe* f = d->field(*m.upsert_field);
        if (!f)
            errors.push_back(where + ": upsert_field " + *m.upsert_field + ": " + d->name +
                             " has no such field");
        else if (!f->external_id && !text::iequals(f->info.name, "Id"))
            errors.push_back(where + ": upsert_field " + *m.upsert_field +
                             ": not an External ID field, so Salesforce cannot upsert by it");
        else if (!r.field(f->info.name))
            errors.push_back(where + ": upsert_field " + *m.upsert_field +
                             ": the field is not mapped");
        else
            r.upsert_field = f->info.name;
    }

    // Indexes: sfid (unique) and systemmodstamp always, then the mapping's own, then the
    // upsert field (unique), as Heroku Connect names and creates them.
    r.indexes.push_back({"sfid", true});
    r.indexes.push_back({"systemmodstamp", false});
    auto add_index = [&](const std::string& column, bool unique) {
        for (auto& i : r.indexes)
            if (i.column == column) {
                i.unique = i.unique || unique;
                return;
            }
        r.indexes.push_back({column, unique});
    };
    if (m.indexes)
        for (const auto& [name, unique] : *m.indexes) {
            const mapped_field* f = r.field(name);
            if (!f && r.is_missing(name))
                continue; // named above
            if (!f)
                errors.push_back(where + ": index on " + name + ": the field is not mapped");
            else
                add_index(f->column, unique);
        }
    if (r.upsert_field)
        add_index(r.field(*r.upsert_field)->column, true);

    apply_read_only_fields(r, where, errors);
    check_mapping_filter(r, where, errors);
    if (r.options.refresh_seconds > 0 && !r.has_calculated_fields())
        warnings.push_back(where + ": sfbridge_refresh_seconds: no mapped field is a formula or "
                                   "roll-up summary (calculated in the describe), so there is "
                                   "nothing to refresh");
    if (r.soft_deletes() && !r.has_isdeleted)
        errors.push_back(where + ": sfbridge_deletes soft: " + d->name +
                         " has no IsDeleted field to keep deleted records by");

    if (errors.size() != errors_before)
        return std::nullopt;
    return r;
}

} // namespace sfbridge::mappings
