#include "bridge/reconcile_plan.hpp"

#include "core/text.hpp"
#include "mappings/soql.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

namespace sfbridge::bridge {

namespace {

enum class compare_as { none, text, boolean, number };

// Types SOQL can filter with IN (a long text area cannot be filtered at all).
bool filterable(const std::string& type) {
    static const std::set<std::string> types{"string",   "email",    "phone",     "url",
                                             "picklist", "combobox", "reference", "id"};
    return types.contains(type);
}

// How a field's value is compared with what Salesforce returns. Left out: datetimes and times
// (their text differs between Postgres and Salesforce), multi-select picklists (Salesforce
// orders the values), encrypted strings (masked), and compound or binary fields.
compare_as comparison(const std::string& type) {
    static const std::set<std::string> text{"string",   "textarea", "email",     "phone", "url",
                                            "picklist", "combobox", "reference", "id",    "date"};
    static const std::set<std::string> number{"double", "currency", "percent", "int", "long"};
    if (text.contains(type))
        return compare_as::text;
    if (number.contains(type))
        return compare_as::number;
    return type == "boolean" ? compare_as::boolean : compare_as::none;
}

bool same_number(const std::string& a, const std::string& b) {
    char* end_a = nullptr;
    char* end_b = nullptr;
    const double x = std::strtod(a.c_str(), &end_a);
    const double y = std::strtod(b.c_str(), &end_b);
    return *end_a == '\0' && *end_b == '\0' && x == y;
}

} // namespace

reconcile_input comparable_values(const mappings::resolved_mapping& m,
                                  const std::vector<writeback_entry*>& es) {
    reconcile_input out;
    for (auto* e : es) {
        hstore_pairs values;
        std::string error;
        sent_create s{e, {}, {}};
        if (parse_hstore(e->values, values, error))
            for (const auto& [col, val] : values) {
                const auto* f = m.by_column(col);
                if (!f || !val || val->empty() || !f->writable_on_create ||
                    comparison(f->sf.info.type) == compare_as::none)
                    continue;
                s.values.emplace_back(f->sf.info.name, *val);
                s.types.push_back(f->sf.info.type);
            }
        if (s.values.empty())
            out.unrecognisable.push_back(e);
        else
            out.sent.push_back(std::move(s));
    }
    return out;
}

std::string value_filter(const std::vector<sent_create>& sent) {
    constexpr std::size_t most = 100; // keeps the query's URL short
    auto same = [](const std::string& a, const std::string& b) {
        return text::ascii_lower(a) == text::ascii_lower(b);
    };
    for (std::size_t k = 0; !sent.empty() && k < sent[0].values.size(); ++k) {
        const std::string& name = sent[0].values[k].first;
        if (!filterable(sent[0].types[k]))
            continue;
        std::set<std::string> values;
        std::size_t with = 0;
        for (const auto& s : sent) {
            bool has = false;
            for (const auto& [n, v] : s.values)
                if (same(n, name)) {
                    values.insert(v);
                    has = true;
                }
            with += has;
        }
        if (with != sent.size())
            continue; // an entry without it would be filtered out
        if (values.size() > most)
            return {};
        std::string in;
        for (const auto& v : values)
            in += (in.empty() ? "" : ",") + mappings::soql::quote(v);
        return " AND " + name + " IN (" + in + ")";
    }
    return {};
}

std::string reconcile_query(const mappings::resolved_mapping& m,
                            const std::vector<sent_create>& sent, const std::string& user_id,
                            bool by_value) {
    std::vector<std::string> fields;
    std::int64_t since = 0;
    bool first = true;
    for (const auto& s : sent) {
        for (const auto& [name, value] : s.values)
            if (std::none_of(fields.begin(), fields.end(), [&](const std::string& f) {
                    return text::ascii_lower(f) == text::ascii_lower(name);
                }))
                fields.push_back(name);
        since = first ? s.e->created_ms : std::min(since, s.e->created_ms);
        first = false;
    }
    // With the recycle bin (queryAll) when the object has one.
    std::string soql = m.has_isdeleted ? "SELECT Id, IsDeleted" : "SELECT Id";
    for (const auto& f : fields)
        soql += ", " + f;
    soql += " FROM " + m.object_name +
            " WHERE CreatedDate >= " + mappings::soql::datetime(since - reconcile_clock_margin_ms);
    if (!user_id.empty())
        soql += " AND CreatedById = " + mappings::soql::quote(user_id);
    if (by_value)
        return soql + value_filter(sent);
    const std::string stamps =
        soql.substr(0, soql.find(" FROM ")) + ", CreatedDate, LastModifiedDate";
    return stamps + soql.substr(soql.find(" FROM ")) + " ORDER BY CreatedDate DESC LIMIT " +
           std::to_string(reconcile_wide_limit);
}

own_writes written_fields(const mappings::resolved_mapping& m,
                          const std::vector<std::pair<std::string, std::string>>& sfid_values) {
    own_writes out;
    for (const auto& [sfid, text] : sfid_values) {
        hstore_pairs values;
        std::string error;
        if (!parse_hstore(text, values, error))
            continue;
        for (const auto& kv : values)
            if (const auto* f = m.by_column(kv.first))
                out[sfid].insert(text::ascii_lower(f->sf.info.name));
    }
    return out;
}

namespace {

bool same_value(const std::string& type, const std::string& value,
                const salesforce::field_value* got) {
    if (!got || got->kind == sf_value_kind::json_null)
        return false;
    switch (comparison(type)) {
    case compare_as::text:
        return got->raw == value;
    case compare_as::boolean:
        return (value == "t" || value == "true") == (got->raw == "true");
    case compare_as::number:
        return same_number(value, got->raw);
    case compare_as::none:
        break;
    }
    return true;
}

// Typed by someone: not a picklist value, a date, a checkbox or a number.
bool free_text(const std::string& type) {
    return comparison(type) == compare_as::text && type != "picklist" && type != "date";
}

const std::set<std::string>* skip_of(const own_writes& own, const salesforce::flat_record& r) {
    const auto* id = r.get("Id");
    const auto w = id ? own.find(id->raw) : own.end();
    return w == own.end() ? nullptr : &w->second;
}

} // namespace

bool changed_since_created(const salesforce::flat_record& r) {
    const auto* created = r.get("CreatedDate");
    const auto* modified = r.get("LastModifiedDate");
    // The same format from the same record: ISO 8601 in UTC compares as text.
    return created && modified && created->raw.size() == modified->raw.size() &&
           modified->raw > created->raw;
}

bool resembles(const sent_create& s, const salesforce::flat_record& r,
               const std::set<std::string>* skip) {
    // Only typed texts count for it: a checkbox left false or a default number says nothing.
    std::size_t held = 0;
    std::size_t differ = 0;
    for (std::size_t i = 0; i < s.values.size(); ++i) {
        const auto& [name, value] = s.values[i];
        if (skip && skip->contains(text::ascii_lower(name)))
            continue;
        if (!same_value(s.types[i], value, r.get(name)))
            ++differ;
        else if (free_text(s.types[i]))
            ++held;
    }
    return held > 0 && held >= differ;
}

std::vector<std::string> assign_changed(const std::vector<sent_create>& sent,
                                        const std::vector<salesforce::flat_record>& candidates,
                                        const std::set<std::string>& taken, const own_writes& own) {
    std::vector<std::string> out(sent.size());
    std::vector<const salesforce::flat_record*> open;
    for (const auto& r : candidates)
        if (const auto* id = r.get("Id");
            id && !taken.contains(id->raw) && changed_since_created(r))
            open.push_back(&r);
    // like[i][k]: create i resembles open candidate k.
    std::vector<std::vector<bool>> like(sent.size(), std::vector<bool>(open.size()));
    std::vector<std::size_t> per_candidate(open.size());
    for (std::size_t i = 0; i < sent.size(); ++i)
        for (std::size_t k = 0; k < open.size(); ++k)
            if (resembles(sent[i], *open[k], skip_of(own, *open[k]))) {
                like[i][k] = true;
                ++per_candidate[k];
            }
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const auto n = std::count(like[i].begin(), like[i].end(), true);
        if (n != 1)
            continue;
        const auto k = static_cast<std::size_t>(std::find(like[i].begin(), like[i].end(), true) -
                                                like[i].begin());
        if (per_candidate[k] == 1)
            out[i] = open[k]->get("Id")->raw;
    }
    return out;
}

namespace {
bool in_recycle_bin(const salesforce::flat_record& r) {
    const auto* d = r.get("IsDeleted");
    return d && d->raw == "true";
}
} // namespace

std::vector<std::string> binned_upserts(const std::vector<std::string>& keys,
                                        const std::string& key_field,
                                        const std::vector<salesforce::flat_record>& records) {
    std::set<std::string> live;
    std::map<std::string, std::string> binned; // key -> newest id (records come newest first)
    for (const auto& r : records) {
        const auto* id = r.get("Id");
        const auto* key = r.get(key_field);
        if (!id || !key)
            continue;
        const auto k = text::ascii_lower(key->raw);
        if (in_recycle_bin(r))
            binned.try_emplace(k, id->raw);
        else
            live.insert(k);
    }
    std::vector<std::string> out;
    for (const auto& key : keys) {
        const auto k = text::ascii_lower(key);
        const auto it = binned.find(k);
        out.push_back(live.contains(k) || it == binned.end() ? std::string() : it->second);
    }
    return out;
}

std::vector<std::string>
assign_changed_live_first(const std::vector<sent_create>& sent,
                          const std::vector<salesforce::flat_record>& candidates,
                          const std::set<std::string>& taken, const own_writes& own) {
    std::vector<salesforce::flat_record> live, binned;
    for (const auto& r : candidates)
        (in_recycle_bin(r) ? binned : live).push_back(r);
    auto out = assign_changed(sent, live, taken, own);
    // Only creates that resemble no live record (adopted or not: an ambiguous live pairing is
    // not settled by the bin) look there.
    std::set<std::string> taken_now = taken;
    std::vector<sent_create> left;
    std::vector<std::size_t> where;
    for (std::size_t i = 0; i < sent.size(); ++i) {
        if (!out[i].empty()) {
            taken_now.insert(out[i]);
            continue;
        }
        const bool any_live = std::any_of(live.begin(), live.end(), [&](const auto& r) {
            const auto* id = r.get("Id");
            return id && !taken.contains(id->raw) && changed_since_created(r) &&
                   resembles(sent[i], r, skip_of(own, r));
        });
        if (!any_live) {
            left.push_back(sent[i]);
            where.push_back(i);
        }
    }
    const auto from_bin = assign_changed(left, binned, taken_now, own);
    for (std::size_t j = 0; j < from_bin.size(); ++j)
        out[where[j]] = from_bin[j];
    return out;
}

bool matches(const sent_create& s, const salesforce::flat_record& r,
             const std::set<std::string>* skip) {
    std::size_t compared = 0;
    bool typed = false; // a text value the user typed, not a picklist or a checkbox
    for (std::size_t i = 0; i < s.values.size(); ++i) {
        const auto& [name, value] = s.values[i];
        if (skip && skip->contains(text::ascii_lower(name)))
            continue;
        ++compared;
        typed = typed || free_text(s.types[i]);
        if (!same_value(s.types[i], value, r.get(name)))
            return false;
    }
    // Left with fewer fields than sent, the rest must still say something: two fields, or one
    // typed text (an email, a name), not a lone picklist value, checkbox or number.
    return compared > 0 && (!skip || compared >= 2 || typed);
}

std::vector<std::string> assign_candidates(const std::vector<sent_create>& sent,
                                           const std::vector<salesforce::flat_record>& candidates,
                                           const std::set<std::string>& taken,
                                           const own_writes& own) {
    std::vector<std::string> out(sent.size());
    std::set<std::string> used = taken;
    for (std::size_t i = 0; i < sent.size(); ++i)
        for (const auto& r : candidates) {
            const auto* id = r.get("Id");
            if (!id || used.contains(id->raw))
                continue;
            if (!matches(sent[i], r, skip_of(own, r)))
                continue;
            out[i] = id->raw;
            used.insert(id->raw);
            break;
        }
    return out;
}

} // namespace sfbridge::bridge
