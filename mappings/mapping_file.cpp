#include "mappings/mapping_file.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace sfbridge::mappings {
namespace {

struct reader {
    std::vector<std::string>& errors;

    void fail(const std::string& where, const std::string& what) {
        errors.push_back(where + ": " + what);
    }

    std::optional<bool> boolean(const json_value& v, const std::string& where) {
        if (const auto* b = v.as_bool())
            return *b;
        fail(where, "must be true or false");
        return std::nullopt;
    }
    std::optional<std::int64_t> integer(const json_value& v, const std::string& where) {
        if (const auto* i = v.as_int())
            return *i;
        fail(where, "must be a whole number");
        return std::nullopt;
    }
    const std::string* string(const json_value& v, const std::string& where) {
        if (const auto* s = v.as_string())
            return s;
        fail(where, "must be a string");
        return nullptr;
    }

    void config(const json_value::object& c, mapping& m, const std::string& where) {
        for (const auto& [key, v] : c) {
            const std::string at = where + ".config." + key;
            if (key == "access") {
                const auto* s = string(v, at);
                if (s && *s == "read_only")
                    m.access = access_mode::read_only;
                else if (s && *s == "read_write")
                    m.access = access_mode::read_write;
                else if (s)
                    fail(at, "must be \"read_only\" or \"read_write\", not \"" + *s + "\"");
            } else if (key == "sf_notify_enabled") {
                if (auto b = boolean(v, at))
                    m.sf_notify_enabled = *b;
            } else if (key == "sf_polling_seconds") {
                if (auto i = integer(v, at)) {
                    if (*i < 1)
                        fail(at, "must be at least 1");
                    m.sf_polling_seconds = *i;
                }
            } else if (key == "sf_max_daily_api_calls") {
                if (auto i = integer(v, at)) {
                    if (*i < 0)
                        fail(at, "must not be negative");
                    m.sf_max_daily_api_calls = *i;
                }
            } else if (key == "fields") {
                const auto* o = v.as_object();
                if (!o) {
                    fail(at, "must be an object of field names");
                    continue;
                }
                for (const auto& [name, options] : *o) {
                    if (!options.as_object())
                        fail(at + "." + name, "must be an object (today always {})");
                    m.fields[name] = options;
                }
            } else if (key == "indexes") {
                const auto* o = v.as_object();
                if (!o) {
                    fail(at, "must be an object of field names");
                    continue;
                }
                std::map<std::string, bool> idx;
                for (const auto& [name, spec] : *o) {
                    const auto* so = spec.as_object();
                    auto u = so ? so->find("unique") : decltype(so->find("unique")){};
                    if (!so || u == so->end() || !u->second.as_bool()) {
                        fail(at + "." + name, "must be {\"unique\": true|false}");
                        continue;
                    }
                    idx[name] = *u->second.as_bool();
                }
                m.indexes = std::move(idx);
            } else if (key == "upsert_field") {
                if (const auto* s = string(v, at))
                    m.upsert_field = *s;
            } else {
                m.extra_config[key] = v;
            }
        }
        if (m.fields.empty())
            fail(where + ".config.fields", "is missing or empty: a mapping maps at least Id");
    }
};

} // namespace

std::optional<mapping_file> read_mapping_file(std::string_view json,
                                              std::vector<std::string>& errors) {
    errors.clear();
    std::string parse_error;
    auto root = parse_json(json, parse_error);
    if (!root) {
        errors.push_back("the mapping file is " + parse_error);
        return std::nullopt;
    }
    const auto* top = root->as_object();
    if (!top) {
        errors.push_back("the mapping file must be a JSON object");
        return std::nullopt;
    }
    reader r{errors};
    mapping_file f;
    bool have_mappings = false;
    for (const auto& [key, v] : *top) {
        if (key == "version") {
            if (auto i = r.integer(v, "version")) {
                if (*i != 1)
                    r.fail("version",
                           "only version 1 exists (Heroku Connect always exports 1), not " +
                               std::to_string(*i));
                f.version = *i;
            }
        } else if (key == "connection") {
            f.connection = v;
        } else if (key == "mappings") {
            have_mappings = true;
            const auto* arr = v.as_array();
            if (!arr) {
                r.fail("mappings", "must be an array");
                continue;
            }
            for (std::size_t i = 0; i < arr->size(); ++i) {
                std::string where = "mappings[" + std::to_string(i) + "]";
                const auto* mo = (*arr)[i].as_object();
                if (!mo) {
                    r.fail(where, "must be an object");
                    continue;
                }
                mapping m;
                if (auto it = mo->find("object_name"); it != mo->end() && it->second.as_string())
                    m.object_name = *it->second.as_string();
                else
                    r.fail(where, "has no object_name");
                if (!m.object_name.empty())
                    where += " (" + m.object_name + ")";
                bool have_config = false;
                for (const auto& [mk, mv] : *mo) {
                    if (mk == "object_name")
                        continue;
                    if (mk == "config") {
                        have_config = true;
                        if (const auto* c = mv.as_object())
                            r.config(*c, m, where);
                        else
                            r.fail(where + ".config", "must be an object");
                    } else {
                        m.extra[mk] = mv;
                    }
                }
                if (!have_config)
                    r.fail(where, "has no config");
                f.mappings.push_back(std::move(m));
            }
        } else {
            f.extra[key] = v;
        }
    }
    if (!have_mappings)
        r.fail("the mapping file", "has no \"mappings\" array");
    // One mapping per object (Heroku Connect looks them up case-insensitively).
    for (std::size_t i = 0; i < f.mappings.size(); ++i)
        for (std::size_t j = i + 1; j < f.mappings.size(); ++j)
            if (!f.mappings[i].object_name.empty() &&
                text::iequals(f.mappings[i].object_name, f.mappings[j].object_name))
                r.fail("mappings[" + std::to_string(j) + "] (" + f.mappings[j].object_name + ")",
                       "maps the same object as mappings[" + std::to_string(i) + "]");
    if (!errors.empty())
        return std::nullopt;
    return f;
}

std::string write_mapping_file(const mapping_file& f) {
    std::vector<const mapping*> sorted;
    for (const auto& m : f.mappings)
        sorted.push_back(&m);
    std::stable_sort(sorted.begin(), sorted.end(), [](const mapping* a, const mapping* b) {
        return a->object_name < b->object_name;
    });
    json_value::array mappings;
    for (const mapping* m : sorted) {
        json_value::object config = m->extra_config;
        config["access"] = m->access == access_mode::read_write ? "read_write" : "read_only";
        config["sf_notify_enabled"] = m->sf_notify_enabled;
        config["sf_polling_seconds"] = m->sf_polling_seconds;
        config["sf_max_daily_api_calls"] = m->sf_max_daily_api_calls;
        json_value::object fields;
        for (const auto& [name, options] : m->fields)
            fields[name] = options;
        config["fields"] = std::move(fields);
        if (m->indexes) {
            json_value::object idx;
            for (const auto& [name, unique] : *m->indexes)
                idx[name] = json_value::object{{"unique", unique}};
            config["indexes"] = std::move(idx);
        }
        if (m->upsert_field)
            config["upsert_field"] = *m->upsert_field;
        json_value::object entry = m->extra;
        entry["object_name"] = m->object_name;
        entry["config"] = std::move(config);
        mappings.push_back(std::move(entry));
    }
    json_value::object root = f.extra;
    root["version"] = f.version;
    if (f.connection)
        root["connection"] = *f.connection;
    root["mappings"] = std::move(mappings);
    return json_value(std::move(root)).dump();
}

} // namespace sfbridge::mappings
