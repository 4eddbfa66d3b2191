#include "sim/org.hpp"

#include "sim/ids.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

namespace sfbridge::sim {
namespace {

const value null_value{};

std::string lower_text(const value& v) {
    if (const auto* s = std::get_if<std::string>(&v))
        return to_lower(*s);
    return {};
}

std::string display(const value& v) {
    if (const auto* s = std::get_if<std::string>(&v))
        return *s;
    if (const auto* d = std::get_if<double>(&v)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.15g", *d);
        return buf;
    }
    if (const auto* b = std::get_if<bool>(&v))
        return *b ? "true" : "false";
    return "null";
}

// Compound names (Contact's and Lead's Name) follow FirstName and LastName. Returns the Name
// field's index if its value changed, else -1.
int refresh_compound_name(const object_def& o, record& r) {
    const int name = o.index_of("Name"), first = o.index_of("FirstName"),
              last = o.index_of("LastName");
    if (name < 0 || first < 0 || last < 0 || o.fields[static_cast<std::size_t>(name)].createable)
        return -1;
    std::string n;
    if (const auto* s = std::get_if<std::string>(&r.get(first)))
        n = *s;
    if (const auto* s = std::get_if<std::string>(&r.get(last)))
        n += (n.empty() ? "" : " ") + *s;
    if (r.get(name) == value(n))
        return -1;
    r.set(name, std::move(n));
    return name;
}

} // namespace

std::string_view to_string(change_type t) noexcept {
    switch (t) {
    case change_type::created:
        return "created";
    case change_type::updated:
        return "updated";
    case change_type::deleted:
        return "deleted";
    case change_type::undeleted:
        return "undeleted";
    }
    return "updated";
}

const value& record::get(int field) const noexcept {
    auto it = std::lower_bound(fields.begin(), fields.end(), field,
                               [](const auto& p, int f) { return p.first < f; });
    return it != fields.end() && it->first == field ? it->second : null_value;
}

void record::set(int field, value v) {
    auto it = std::lower_bound(fields.begin(), fields.end(), field,
                               [](const auto& p, int f) { return p.first < f; });
    if (it != fields.end() && it->first == field) {
        if (is_null(v))
            fields.erase(it);
        else
            it->second = std::move(v);
    } else if (!is_null(v)) {
        fields.insert(it, {field, std::move(v)});
    }
}

org::org(const schema& s, std::uint64_t seed) : schema_(s), sequence_(seed * 1000003 + 1) {
    user_id_ = ids::make("005", seed + 1);
    org_id_ = ids::make("00D", seed + 1);
}

std::int64_t org::now_ms() noexcept {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() +
                     clock_offset_ms_;
    last_ms_ = std::max<std::int64_t>(last_ms_, now);
    return last_ms_;
}

void org::reset() {
    tables_.clear();
    rules_.clear();
    limit_overrides_.clear();
    cdc_selection_.reset();
}

org::table& org::table_of(const object_def& o) {
    return tables_[&o];
}

const org::table* org::find_table(const object_def& o) const {
    auto it = tables_.find(&o);
    return it == tables_.end() ? nullptr : &it->second;
}

const std::vector<std::unique_ptr<record>>& org::records(const object_def& o) const {
    static const std::vector<std::unique_ptr<record>> none;
    const table* t = find_table(o);
    return t ? t->rows : none;
}

const record* org::get(const object_def& o, std::string_view id) const noexcept {
    const table* t = find_table(o);
    if (!t || !ids::valid(id))
        return nullptr;
    auto it = t->by_id15.find(std::string(id.substr(0, 15)));
    return it == t->by_id15.end() ? nullptr : it->second;
}

const object_def* org::object_of(std::string_view id) const noexcept {
    if (id.size() < 3)
        return nullptr;
    return schema_.by_key_prefix(id.substr(0, 3));
}

std::vector<const record*> org::find_by_field(const object_def& o, int field,
                                              std::string_view key) const {
    std::vector<const record*> out;
    const std::string want = to_lower(key);
    for (const auto& r : records(o))
        if (!r->deleted && lower_text(r->get(field)) == want)
            out.push_back(r.get());
    return out;
}

std::vector<org::deletion> org::deletions(const object_def& o) const {
    std::vector<deletion> out;
    if (const table* t = find_table(o))
        for (const auto& r : t->rows)
            if (r->deleted)
                out.push_back({r->id, t->deleted_at.at(r->id)});
    return out;
}

bool org::check_values(const object_def& o, const std::vector<field_value>& in, bool creating,
                       const record* existing, sf_error& err) {
    for (const auto& fv : in) {
        const field_def& f = o.fields[static_cast<std::size_t>(fv.field)];
        if (creating ? !f.createable : !f.updateable) {
            err = {"INVALID_FIELD_FOR_INSERT_UPDATE",
                   "Unable to " + std::string(creating ? "create" : "create/update") +
                       " fields: " + f.name +
                       ". Please check the security settings of this field and verify that it "
                       "is read/write for your profile or permission set.",
                   {f.name}};
            return false;
        }
        if (is_null(fv.v)) {
            if (!f.nillable && !f.defaulted_on_create && f.type != field_type::boolean) {
                err = {"REQUIRED_FIELD_MISSING",
                       "Required fields are missing: [" + f.name + "]",
                       {f.name}};
                return false;
            }
            continue;
        }
        if (const auto* s = std::get_if<std::string>(&fv.v)) {
            if (f.length > 0 && is_text_type(f.type) && static_cast<int>(s->size()) > f.length) {
                err = {"STRING_TOO_LONG",
                       f.label + ": data value too large: " + s->substr(0, 80) +
                           " (max length=" + std::to_string(f.length) + ")",
                       {f.name}};
                return false;
            }
            if ((f.type == field_type::picklist && f.restricted_picklist &&
                 std::find(f.picklist_values.begin(), f.picklist_values.end(), *s) ==
                     f.picklist_values.end())) {
                err = {"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                       f.label + ": bad value for restricted picklist field: " + *s,
                       {f.name}};
                return false;
            }
            if (f.type == field_type::email &&
                (s->find('@') == std::string::npos || s->find(' ') != std::string::npos)) {
                err = {
                    "INVALID_EMAIL_ADDRESS", f.name + ": invalid email address: " + *s, {f.name}};
                return false;
            }
            if (f.type == field_type::reference) {
                if (!ids::valid(*s)) {
                    err = {
                        "MALFORMED_ID", f.name + ": id value of incorrect type: " + *s, {f.name}};
                    return false;
                }
                const object_def* target = object_of(*s);
                bool type_ok = f.reference_to.empty();
                for (const auto& t : f.reference_to)
                    type_ok =
                        type_ok || (target && target->name == t) || (!target && !schema_.find(t));
                if (!type_ok || (target && !get(*target, *s))) {
                    err = {"FIELD_INTEGRITY_EXCEPTION",
                           f.name + ": id value of incorrect type: " + *s,
                           {f.name}};
                    if (type_ok)
                        err = {
                            "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", {f.name}};
                    return false;
                }
            }
        }
        if (const auto* d = std::get_if<double>(&fv.v); d && f.precision > 0) {
            const double limit = std::pow(10.0, f.precision - f.scale);
            if (std::fabs(*d) >= limit) {
                err = {"NUMBER_OUTSIDE_VALID_RANGE",
                       f.label +
                           ": value outside of valid range on numeric field: " + display(fv.v),
                       {f.name}};
                return false;
            }
        }
        if (f.unique || f.external_id) {
            for (const record* other : find_by_field(o, fv.field, display(fv.v))) {
                if (existing && other == existing)
                    continue;
                err = {"DUPLICATE_VALUE",
                       "duplicate value found: " + f.name +
                           " duplicates value on record with id: " + other->id,
                       {f.name}};
                return false;
            }
        }
    }
    if (creating) {
        for (std::size_t i = 0; i < o.fields.size(); ++i) {
            const field_def& f = o.fields[i];
            if (!f.createable || f.nillable || f.defaulted_on_create ||
                f.type == field_type::boolean)
                continue;
            const bool given = std::any_of(in.begin(), in.end(), [&](const field_value& fv) {
                return fv.field == static_cast<int>(i) && !is_null(fv.v);
            });
            if (!given) {
                err = {"REQUIRED_FIELD_MISSING",
                       "Required fields are missing: [" + f.name + "]",
                       {f.name}};
                return false;
            }
        }
    }
    if (auto v = validators_.find(to_lower(o.name)); v != validators_.end())
        if (!v->second(o, existing, in, err))
            return false;
    for (const auto& rule : rules_) {
        if (!iequals(rule.object, o.name))
            continue;
        const int fi = o.index_of(rule.field);
        if (fi < 0)
            continue;
        // The value after this write: the input if it sets the field, else what is stored.
        const value* v = existing ? &existing->get(fi) : &null_value;
        for (const auto& fv : in)
            if (fv.field == fi)
                v = &fv.v;
        if (iequals(display(*v), rule.equals)) {
            err = {"FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message, {}};
            return false;
        }
    }
    return true;
}

void org::stamp(const object_def& o, record& r, std::int64_t ms, bool creating) {
    const std::string now = format_datetime(ms);
    auto set_if = [&](std::string_view name, value v) {
        const int i = o.index_of(name);
        if (i >= 0)
            r.set(i, std::move(v));
    };
    if (creating) {
        set_if("CreatedDate", now);
        set_if("CreatedById", user_id_);
        set_if("IsDeleted", false);
    }
    set_if("LastModifiedDate", now);
    set_if("LastModifiedById", user_id_);
    set_if("SystemModstamp", now);
}

void org::notify(const object_def& o, const record& r, change_type t, std::vector<int> changed,
                 std::int64_t ms, const write_options& w) {
    change c;
    c.object = &o;
    c.rec = &r;
    c.type = t;
    c.changed_fields = std::move(changed);
    c.commit_ms = ms;
    c.bulk = w.bulk;
    c.transaction_key = w.transaction_key;
    for (const auto& l : listeners_)
        l(c);
}

std::string org::create(const object_def& o, std::vector<field_value> in, const write_options& w,
                        sf_error& err) {
    if (!o.createable) {
        err = {"INVALID_TYPE_FOR_OPERATION", "entity type cannot be inserted: " + o.name, {}};
        return {};
    }
    if (!check_values(o, in, true, nullptr, err))
        return {};
    auto r = std::make_unique<record>();
    r->id = ids::make(o.key_prefix.empty() ? "a00" : o.key_prefix, ++sequence_);
    if (locked(r->id, err))
        return {};
    const std::int64_t ms = now_ms();
    for (std::size_t i = 0; i < o.fields.size(); ++i) {
        const field_def& f = o.fields[i];
        if (f.default_boolean && f.type == field_type::boolean)
            r->set(static_cast<int>(i), *f.default_boolean);
        else if (!f.default_picklist_value.empty())
            r->set(static_cast<int>(i), f.default_picklist_value);
        else if (f.auto_number) {
            char buf[24];
            std::snprintf(buf, sizeof buf, "A-%06llu",
                          static_cast<unsigned long long>(++auto_number_));
            r->set(static_cast<int>(i), std::string(buf));
        }
    }
    r->set(o.index_of("Id"), r->id);
    if (const int owner = o.index_of("OwnerId"); owner >= 0)
        r->set(owner, user_id_);
    for (auto& fv : in)
        r->set(fv.field, std::move(fv.v));
    refresh_compound_name(o, *r);
    compute_formulas(o, *r, nullptr);
    stamp(o, *r, ms, true);
    table& t = table_of(o);
    record* raw = r.get();
    t.by_id15[raw->id.substr(0, 15)] = raw;
    t.rows.push_back(std::move(r));
    update_rollups(o, rollup_parents(o, *raw));
    compute_own_rollups(o, *raw);
    notify(o, *raw, change_type::created, {}, ms, w);
    return raw->id;
}

record* org::live_record(const object_def& o, std::string_view id, sf_error& err) {
    if (!ids::valid(id)) {
        err = {
            "MALFORMED_ID", o.name + " ID: id value of incorrect type: " + std::string(id), {"Id"}};
        return nullptr;
    }
    table& t = table_of(o);
    auto it = t.by_id15.find(std::string(id.substr(0, 15)));
    if (it == t.by_id15.end()) {
        err = {"INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", {}};
        return nullptr;
    }
    if (it->second->deleted) {
        err = {"ENTITY_IS_DELETED", "entity is deleted", {}};
        return nullptr;
    }
    return it->second;
}

bool org::locked(std::string_view id, sf_error& err) {
    if (!lock_check_ || !lock_check_(id))
        return false;
    err = {"UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record", {}};
    return true;
}

bool org::check_create(const object_def& o, const std::vector<field_value>& in, sf_error& err) {
    if (!o.createable) {
        err = {"INVALID_TYPE_FOR_OPERATION", "entity type cannot be inserted: " + o.name, {}};
        return false;
    }
    return check_values(o, in, true, nullptr, err);
}

bool org::check_update(const object_def& o, std::string_view id, const std::vector<field_value>& in,
                       sf_error& err) {
    const record* r = live_record(o, id, err);
    return r && check_values(o, in, false, r, err);
}

bool org::update(const object_def& o, std::string_view id, std::vector<field_value> in,
                 const write_options& w, sf_error& err) {
    record* found = live_record(o, id, err);
    if (!found || !check_values(o, in, false, found, err) || locked(found->id, err))
        return false;
    record& r = *found;
    const std::int64_t ms = now_ms();
    auto parents = rollup_parents(o, r);
    std::vector<int> changed;
    for (auto& fv : in) {
        if (r.get(fv.field) != fv.v) {
            changed.push_back(fv.field);
            r.set(fv.field, std::move(fv.v));
        }
    }
    if (const int name = refresh_compound_name(o, r); name >= 0)
        changed.push_back(name);
    compute_formulas(o, r, &changed);
    for (auto& p : rollup_parents(o, r))
        parents.push_back(std::move(p));
    update_rollups(o, parents);
    // Salesforce bumps the modification stamps on every save, changed or not.
    stamp(o, r, ms, false);
    for (const char* sys : {"LastModifiedDate", "LastModifiedById", "SystemModstamp"})
        if (const int i = o.index_of(sys); i >= 0)
            changed.push_back(i);
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    notify(o, r, change_type::updated, std::move(changed), ms, w);
    return true;
}

bool org::remove(const object_def& o, std::string_view id, const write_options& w, sf_error& err) {
    if (!o.deletable) {
        err = {"INVALID_TYPE_FOR_OPERATION", "entity type cannot be deleted: " + o.name, {}};
        return false;
    }
    record* found = live_record(o, id, err);
    if (!found || locked(found->id, err))
        return false;
    record& r = *found;
    table& t = table_of(o);
    const std::int64_t ms = now_ms();
    r.deleted = true;
    if (const int i = o.index_of("IsDeleted"); i >= 0)
        r.set(i, true);
    stamp(o, r, ms, false);
    t.deleted_at[r.id] = ms;
    update_rollups(o, rollup_parents(o, r));
    notify(o, r, change_type::deleted, {}, ms, w);
    return true;
}

bool org::undelete(const object_def& o, std::string_view id, const write_options& w,
                   sf_error& err) {
    table& t = table_of(o);
    auto it = ids::valid(id) ? t.by_id15.find(std::string(id.substr(0, 15))) : t.by_id15.end();
    if (it == t.by_id15.end()) {
        err = {"INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", {}};
        return false;
    }
    record& r = *it->second;
    if (!r.deleted) {
        err = {"UNDELETE_FAILED", "Entity is not in the recycle bin", {}};
        return false;
    }
    const std::int64_t ms = now_ms();
    r.deleted = false;
    if (const int i = o.index_of("IsDeleted"); i >= 0)
        r.set(i, false);
    stamp(o, r, ms, false);
    t.deleted_at.erase(r.id);
    update_rollups(o, rollup_parents(o, r));
    notify(o, r, change_type::undeleted, {}, ms, w);
    return true;
}

} // namespace sfbridge::sim
