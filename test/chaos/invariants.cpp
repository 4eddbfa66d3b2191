#include "test/chaos/invariants.hpp"

#include <algorithm>
#include <cctype>

namespace sfbridge::chaos {

namespace {

// A value for the report: quoted, long ones shortened, NUL shown.
std::string show(const std::optional<std::string>& v) {
    if (!v)
        return "null";
    std::string s;
    for (char c : v->substr(0, 60))
        s += c == '\0' ? std::string("\\0") : std::string(1, c);
    return "\"" + s + (v->size() > 60 ? "...(" + std::to_string(v->size()) + " bytes)" : "") + "\"";
}

const std::optional<std::string>& field(const values& v, const std::string& name) {
    static const std::optional<std::string> none;
    auto it = v.find(name);
    return it == v.end() ? none : it->second;
}

} // namespace

std::string comparable(const std::optional<std::string>& v) {
    if (!v)
        return {};
    std::string s = *v;
    s.erase(std::remove(s.begin(), s.end(), '\0'), s.end());
    return s;
}

std::vector<finding> compare_table(const object_spec& spec, const std::vector<sim_record>& sim,
                                   const std::vector<table_row>& rows) {
    std::vector<finding> out;
    std::map<std::string, const table_row*> by_sfid;
    for (const auto& r : rows) {
        if (!r.sfid) {
            out.push_back({"every row is linked to a record",
                           spec.table + " id " + std::to_string(r.id) + " (marker " +
                               show(field(r.fields, spec.marker)) + ") has no sfid"});
            continue;
        }
        if (!by_sfid.emplace(*r.sfid, &r).second)
            out.push_back({"one row per record", spec.table + " holds " + *r.sfid + " twice"});
    }
    std::set<std::string> live;
    for (const auto& rec : sim) {
        if (rec.deleted)
            continue;
        live.insert(rec.id);
        auto it = by_sfid.find(rec.id);
        if (it == by_sfid.end()) {
            out.push_back(
                {"every record is in the table", spec.object + " " + rec.id + " (marker " +
                                                     show(field(rec.fields, spec.marker)) +
                                                     ") is missing from " + spec.table});
            continue;
        }
        for (const auto& f : spec.fields()) {
            const auto& want = field(rec.fields, f);
            const auto& got = field(it->second->fields, f);
            if (comparable(want) != comparable(got))
                out.push_back({"the table equals Salesforce field by field",
                               spec.object + " " + rec.id + " " + f + ": Salesforce " + show(want) +
                                   ", Postgres " + show(got)});
        }
    }
    for (const auto& [sfid, row] : by_sfid)
        if (!live.count(sfid))
            out.push_back({"no row outlives its record",
                           spec.table + " id " + std::to_string(row->id) + " holds " + sfid +
                               ", which Salesforce does not have (or has deleted)"});
    return out;
}

std::vector<finding> check_inserts(const object_spec& spec,
                                   const std::set<std::string>& app_markers,
                                   const std::set<std::string>& failed_markers,
                                   const std::vector<sim_record>& sim) {
    std::map<std::string, std::vector<std::string>> ids_by_marker;
    for (const auto& rec : sim)
        if (auto m = field(rec.fields, spec.marker))
            ids_by_marker[*m].push_back(rec.id);
    // A duplicate is shown whole: what each copy holds, when it was created and changed, and
    // whether it is in the recycle bin (a copy a user deleted counts: the insert made it).
    auto describe = [&](const std::string& id) {
        for (const auto& rec : sim)
            if (rec.id == id) {
                std::string out = id + " {";
                for (const auto& f : spec.fields())
                    out += f + "=" + show(field(rec.fields, f)) + ", ";
                return out + "created " + rec.created + ", changed " + rec.modified +
                       (rec.deleted ? ", in the recycle bin}" : "}");
            }
        return id;
    };
    std::vector<finding> out;
    for (const auto& m : app_markers) {
        const auto it = ids_by_marker.find(m);
        const std::size_t n = it == ids_by_marker.end() ? 0 : it->second.size();
        const std::size_t expected = failed_markers.count(m) ? 0 : 1;
        if (n == expected)
            continue;
        std::string ids;
        if (n > 0)
            for (const auto& id : it->second)
                ids += (ids.empty() ? "" : ", ") + (n > 1 ? describe(id) : id);
        out.push_back({"every app INSERT is exactly one Salesforce record",
                       spec.object + " insert " + m + " became " + std::to_string(n) + " records" +
                           (ids.empty() ? "" : " (" + ids + ")") +
                           (expected == 0 ? " though its trigger-log row FAILED" : "")});
    }
    return out;
}

std::vector<finding> check_app_values(const object_spec& spec,
                                      const std::map<std::string, std::string>& last_app_value,
                                      const std::vector<sim_record>& sim) {
    std::vector<finding> out;
    for (const auto& rec : sim) {
        if (rec.deleted)
            continue;
        const auto m = field(rec.fields, spec.marker);
        if (!m)
            continue;
        auto it = last_app_value.find(*m);
        if (it == last_app_value.end())
            continue;
        const auto& got = field(rec.fields, spec.app_only);
        if (comparable(got) != it->second)
            out.push_back({"the app's last write of a field only it changes wins",
                           spec.object + " " + rec.id + " (" + *m + ") " + spec.app_only +
                               ": app wrote " + show(it->second) + ", Salesforce has " +
                               show(got)});
    }
    return out;
}

std::vector<finding> check_shared(const object_spec& spec,
                                  const std::map<std::string, shared_write>& last_app,
                                  const std::map<std::string, long long>& sf_wrote_at,
                                  const std::set<std::string>& lost_to_salesforce,
                                  const std::vector<sim_record>& sim) {
    std::vector<finding> out;
    std::string column = spec.shared;
    for (auto& ch : column)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (const auto& rec : sim) {
        const auto m = field(rec.fields, spec.marker);
        if (rec.deleted || !m)
            continue;
        const auto app = last_app.find(*m);
        if (app == last_app.end())
            continue;
        const auto& got = field(rec.fields, spec.shared);
        if (comparable(got) == app->second.value)
            continue;
        const auto sf = sf_wrote_at.find(*m);
        if (sf != sf_wrote_at.end() && sf->second >= app->second.at_ms)
            continue; // Salesforce's side wrote it later
        if (lost_to_salesforce.count(rec.id + "|" + column))
            continue; // a conflict Salesforce won, recorded
        out.push_back({"every app value that lost is explained by a later Salesforce write or a "
                       "conflict row",
                       spec.object + " " + rec.id + " (" + *m + ") " + spec.shared +
                           ": app wrote " + show(app->second.value) + ", Salesforce has " +
                           show(got) + ", no later Salesforce write and no conflict row"});
    }
    return out;
}

} // namespace sfbridge::chaos
