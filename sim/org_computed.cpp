// The org's computed fields: formulas (sim/formula.hpp) and roll-up summaries, defined at run
// time through the control API. A definition added or edited in Setup is computed for every
// record without a save: no SystemModstamp moves, no event is raised, so polling and PushTopics
// never see the new values. A record's own save computes its formulas; a child's change
// recalculates its parents' roll-ups and, as in Salesforce's order of execution, the parent
// goes through a save of its own (new SystemModstamp, an update event) when a value changed.
#include "sim/org.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace sfbridge::sim {

namespace {

std::string id15(const value& v) {
    if (const auto* s = std::get_if<std::string>(&v); s && s->size() >= 15)
        return s->substr(0, 15);
    return {};
}

// A value as the field's type holds it, or null when it cannot be one.
value converted(const field_def& f, const value& v) {
    if (is_null(v))
        return v;
    if (is_number_type(f.type)) {
        if (std::holds_alternative<double>(v))
            return v;
        if (const auto* s = std::get_if<std::string>(&v)) {
            double d = 0;
            const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), d);
            if (ec == std::errc() && end == s->data() + s->size())
                return d;
        }
        return value();
    }
    if (is_text_type(f.type)) {
        std::string t;
        if (const auto* s = std::get_if<std::string>(&v))
            t = *s;
        else if (const auto* d = std::get_if<double>(&v)) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.15g", *d);
            t = buf;
        } else
            t = std::get<bool>(v) ? "true" : "false";
        if (f.length > 0 && t.size() > static_cast<std::size_t>(f.length))
            t.resize(static_cast<std::size_t>(f.length));
        return t;
    }
    if (f.type == field_type::boolean)
        return std::holds_alternative<bool>(v) ? v : value();
    return std::holds_alternative<std::string>(v) ? v : value();
}

} // namespace

void org::field_changed(const object_def& o, int field, std::optional<field_type> old_type) {
    formulas_.clear();
    rollups_.clear();
    for (const auto& obj : schema_.objects())
        for (std::size_t i = 0; i < obj->fields.size(); ++i) {
            const field_def& f = obj->fields[i];
            if (f.hidden)
                continue;
            if (f.formula.valid())
                formulas_[obj.get()].push_back(static_cast<int>(i));
            if (!f.rollup)
                continue;
            const object_def* child = schema_.find(f.rollup->child);
            const int via = child ? child->index_of(f.rollup->via) : -1;
            const int summed =
                child && f.rollup->op == "SUM" ? child->index_of(f.rollup->field) : -1;
            // A SUM whose field is gone sums nothing rather than turning into a COUNT.
            if (via >= 0 && (f.rollup->op != "SUM" || summed >= 0))
                rollups_.push_back({obj.get(), static_cast<int>(i), child, via, summed});
        }
    const field_def& f = o.fields[static_cast<std::size_t>(field)];
    for (const auto& r : table_of(o).rows) {
        if (old_type)
            r->set(field, converted(f, r->get(field)));
        if (f.formula.valid())
            r->set(field, converted(f, f.formula.evaluate(
                                           [&](int i) -> const value& { return r->get(i); })));
        else if (f.rollup)
            r->set(field, rollup_value(o, f, *r));
    }
}

void org::compute_formulas(const object_def& o, record& r, std::vector<int>* changed) {
    auto it = formulas_.find(&o);
    if (it == formulas_.end())
        return;
    for (int i : it->second) {
        const field_def& f = o.fields[static_cast<std::size_t>(i)];
        value v = converted(f, f.formula.evaluate([&](int k) -> const value& { return r.get(k); }));
        if (v == r.get(i))
            continue;
        r.set(i, std::move(v));
        if (changed)
            changed->push_back(i);
    }
}

std::vector<std::string> org::rollup_parents(const object_def& o, const record& r) const {
    std::vector<std::string> out;
    for (const auto& ru : rollups_)
        if (ru.child == &o)
            if (auto id = id15(r.get(ru.via)); !id.empty())
                out.push_back(std::move(id));
    return out;
}

value org::rollup_value(const object_def& parent, const field_def& f, const record& r) const {
    for (const auto& ru : rollups_) {
        if (ru.parent != &parent || &parent.fields[static_cast<std::size_t>(ru.field)] != &f)
            continue;
        const std::string id = r.id.substr(0, 15);
        double total = 0;
        if (const auto* t = find_table(*ru.child))
            for (const auto& c : t->rows) {
                if (c->deleted || id15(c->get(ru.via)) != id)
                    continue;
                if (ru.summed < 0)
                    total += 1;
                else if (const auto* d = std::get_if<double>(&c->get(ru.summed)))
                    total += *d;
            }
        return total;
    }
    return value();
}

void org::compute_own_rollups(const object_def& o, record& r) {
    for (const auto& ru : rollups_)
        if (ru.parent == &o)
            r.set(ru.field, rollup_value(o, o.fields[static_cast<std::size_t>(ru.field)], r));
}

void org::update_rollups(const object_def& child, const std::vector<std::string>& parents) {
    if (parents.empty())
        return;
    for (const auto& ru : rollups_) {
        if (ru.child != &child)
            continue;
        table* t = &table_of(*ru.parent);
        const field_def& f = ru.parent->fields[static_cast<std::size_t>(ru.field)];
        for (const auto& p : parents) {
            auto it = t->by_id15.find(p);
            if (it == t->by_id15.end() || it->second->deleted)
                continue;
            record& r = *it->second;
            value v = rollup_value(*ru.parent, f, r);
            if (v == r.get(ru.field))
                continue;
            r.set(ru.field, std::move(v));
            // The parent's save: its formulas, its stamps, its event.
            std::vector<int> changed{ru.field};
            compute_formulas(*ru.parent, r, &changed);
            const std::int64_t ms = now_ms();
            stamp(*ru.parent, r, ms, false);
            for (const char* sys : {"LastModifiedDate", "LastModifiedById", "SystemModstamp"})
                if (const int i = ru.parent->index_of(sys); i >= 0)
                    changed.push_back(i);
            std::sort(changed.begin(), changed.end());
            changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
            notify(*ru.parent, r, change_type::updated, std::move(changed), ms, write_options{});
        }
    }
}

} // namespace sfbridge::sim
