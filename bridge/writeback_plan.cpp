#include "bridge/writeback_plan.hpp"

#include "core/json_writer.hpp"
#include "core/text.hpp"
#include "mappings/values.hpp"
#include "salesforce/ids.hpp"

#include <algorithm>

namespace sfbridge::bridge {

using result = writeback_entry::result;

std::optional<write_action> parse_action(std::string_view text) noexcept {
    if (text == "INSERT")
        return write_action::insert;
    if (text == "UPDATE")
        return write_action::update;
    if (text == "DELETE")
        return write_action::remove;
    return std::nullopt;
}

classified classify(std::vector<writeback_entry>& batch, const mapping_lookup& find) {
    classified out;
    for (auto& e : batch) {
        if (!e.pending())
            continue;
        if (!find(e.table)) {
            e.fail("SFBRIDGE_NOT_MAPPED", "table " + e.table + " has no read-write mapping");
            continue;
        }
        if (!e.sfid.empty() && !salesforce::is_record_id(e.sfid)) {
            // It would go into a URL or a collection as it is (a comma adds ids to a delete).
            e.fail("SFBRIDGE_BAD_SFID",
                   "the trigger log's sfid is not a Salesforce record id: " + e.sfid.substr(0, 40));
            continue;
        }
        if (!e.action) {
            e.fail("SFBRIDGE_BAD_ACTION", "unknown trigger log action \"" + e.action_text +
                                              "\" (expected INSERT, UPDATE or DELETE)");
            continue;
        }
        auto& group = *e.action == write_action::insert   ? out.inserts
                      : *e.action == write_action::update ? out.updates
                                                          : out.deletes;
        group[e.table].push_back(&e);
    }
    return out;
}

std::vector<std::string>
insert_order(const std::map<std::string, std::vector<writeback_entry*>>& inserts,
             const mapping_lookup& find) {
    // Trigger-log order of each table's first insert, then parents before children.
    std::vector<std::string> order;
    for (const auto& [table, es] : inserts)
        order.push_back(table);
    std::sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
        return inserts.at(a).front()->id < inserts.at(b).front()->id;
    });
    auto references = [&](const std::string& child, const std::string& parent) {
        const auto* c = find(child);
        const auto* p = find(parent);
        return c && p &&
               std::any_of(c->references.begin(), c->references.end(), [&](const auto& r) {
                   return text::iequals(r.parent_object, p->object_name);
               });
    };
    // A few passes of moving each child after its parents (mappings rarely nest deeper).
    for (std::size_t pass = 0; pass < order.size() * order.size(); ++pass) {
        bool moved = false;
        for (std::size_t i = 0; i < order.size() && !moved; ++i)
            for (std::size_t j = i + 1; j < order.size() && !moved; ++j)
                if (references(order[i], order[j]) && !references(order[j], order[i])) {
                    std::rotate(order.begin() + static_cast<std::ptrdiff_t>(i),
                                order.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                order.begin() + static_cast<std::ptrdiff_t>(j) + 1);
                    moved = true;
                }
        if (!moved)
            break;
    }
    return order;
}

bool record_json(const mappings::resolved_mapping& m, const hstore_pairs& values, bool create,
                 std::string& out, std::string& error, bool& any) {
    out = "{";
    any = false;
    // Relationship references first; a lookup they set is not also sent by its own column.
    std::set<std::string> set_by_reference;
    for (const auto& [col, val] : values) {
        const auto* r = m.reference_by_column(col);
        if (!r || !val || val->empty() || !(create ? r->writable_on_create : r->writable_on_update))
            continue;
        if (any)
            out += ',';
        json::append_quoted(out, r->relationship);
        out += ":{";
        json::append_quoted(out, r->external_field);
        out += ':';
        json::append_quoted(out, *val);
        out += '}';
        any = true;
        set_by_reference.insert(text::ascii_lower(r->lookup_field));
    }
    for (const auto& [col, val] : values) {
        const auto* f = m.by_column(col);
        if (!f || !(create ? f->writable_on_create : f->writable_on_update) ||
            set_by_reference.contains(col))
            continue;
        if (create && !val)
            continue; // nothing to say about a field left empty on insert
        std::string v;
        if (!mappings::to_salesforce_json(f->sf.info, val, v, error))
            return false;
        if (any)
            out += ',';
        json::append_quoted(out, f->sf.info.name);
        out += ':';
        out += v;
        any = true;
    }
    return true;
}

namespace {
const mappings::mapped_field* upsert_field(const mappings::resolved_mapping& m) {
    return m.upsert_field ? m.field(*m.upsert_field) : nullptr;
}
// Whether an app's new row is surely outside the mapping's row filter. A field the app left
// empty that Salesforce fills on create (an owner, a picklist's default) is not known until the
// record exists, so a part of the filter over it does not refuse the row.
bool outside_filter(const mappings::resolved_mapping& m, const hstore_pairs& values) {
    if (!m.options.filter)
        return false;
    const auto result = mappings::filter_matches(
        *m.options.filter,
        [&](std::string_view field) {
            mappings::filter_value v;
            const auto* f = m.field(field);
            for (const auto& [column, value] : values)
                if (f && column == f->column)
                    v.value = value;
            v.known = v.value || !f || !f->sf.defaulted_on_create;
            return v;
        },
        [&](std::string_view field) -> const mappings::field_describe* {
            const auto* f = m.field(field);
            return f ? &f->sf : nullptr;
        });
    return result == mappings::filter_result::no_match;
}
bool has_value(const hstore_pairs& values, const std::string& column) {
    return std::any_of(values.begin(), values.end(), [&](const auto& kv) {
        return kv.first == column && kv.second && !kv.second->empty();
    });
}
} // namespace

insert_plan plan_inserts(const mappings::resolved_mapping& m,
                         const std::vector<writeback_entry*>& es) {
    insert_plan out;
    const auto* ext = upsert_field(m);
    for (auto* e : es) {
        if (!e->pending() || e->unknown)
            continue;
        hstore_pairs values;
        std::string error, json;
        bool any = false;
        if (!parse_hstore(e->values, values, error) ||
            !record_json(m, values, true, json, error, any)) {
            e->fail("SFBRIDGE_BAD_VALUE", error);
            continue;
        }
        if (outside_filter(m, values)) {
            // Synced, the record would leave the table at once: the app's row would vanish.
            e->fail("SFBRIDGE_OUTSIDE_FILTER",
                    "the row does not match the mapping's sfbridge_filter (" +
                        m.options.filter_text + "); nothing was sent to Salesforce");
            continue;
        }
        const bool upsert = ext && has_value(values, ext->column);
        (upsert ? out.upserts : out.creates).push_back(json + "}");
        (upsert ? out.upsert_owners : out.create_owners).push_back(e);
    }
    return out;
}

bool sent_as_upsert(const mappings::resolved_mapping& m, const writeback_entry& e) {
    const auto* ext = upsert_field(m);
    hstore_pairs values;
    std::string error;
    return ext && parse_hstore(e.values, values, error) && has_value(values, ext->column);
}

std::vector<std::string> external_ids(const mappings::resolved_mapping& m,
                                      const std::vector<writeback_entry*>& es) {
    std::vector<std::string> keys;
    const auto* ext = upsert_field(m);
    if (!ext)
        return keys;
    for (auto* e : es) {
        hstore_pairs values;
        std::string error;
        if (parse_hstore(e->values, values, error))
            for (const auto& [col, val] : values)
                if (col == ext->column && val && !val->empty())
                    keys.push_back(*val);
    }
    return keys;
}

} // namespace sfbridge::bridge
