#include "sim/record_json.hpp"

#include <charconv>
#include <cmath>

namespace sfbridge::sim {
namespace od = simdjson::ondemand;

namespace {

sf_error type_error(const field_def& f, std::string_view raw) {
    // Salesforce's JSON deserialiser message, without the stream position.
    return {"JSON_PARSER_ERROR",
            "Cannot deserialize instance of " + f.type_name + " from " + std::string(raw) +
                " value for field " + f.name,
            {f.name}};
}

bool number_from_text(std::string_view s, double& d) {
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    return ec == std::errc{} && p == s.data() + s.size() && std::isfinite(d);
}

} // namespace

bool read_value(const field_def& f, od::value v, value& out, sf_error& err) {
    od::json_type t;
    if (v.type().get(t)) {
        err = {"JSON_PARSER_ERROR", "Malformed JSON for field " + f.name, {f.name}};
        return false;
    }
    if (t == od::json_type::null) {
        out = std::monostate{};
        return true;
    }
    if (t == od::json_type::object || t == od::json_type::array) {
        err = type_error(f, t == od::json_type::object ? "START_OBJECT" : "START_ARRAY");
        return false;
    }
    switch (f.type) {
    case field_type::boolean: {
        bool b;
        std::string_view s;
        if (t == od::json_type::boolean && !v.get_bool().get(b)) {
            out = b;
            return true;
        }
        if (t == od::json_type::string && !v.get_string().get(s) &&
            (iequals(s, "true") || iequals(s, "false"))) {
            out = iequals(s, "true");
            return true;
        }
        err = type_error(f, "VALUE_STRING");
        return false;
    }
    case field_type::integer:
    case field_type::double_:
    case field_type::currency:
    case field_type::percent: {
        double d;
        std::string_view s;
        if (t == od::json_type::number && !v.get_double().get(d)) {
            if (f.type == field_type::integer && d != std::trunc(d)) {
                err = type_error(f, "VALUE_NUMBER_FLOAT");
                return false;
            }
            out = d;
            return true;
        }
        if (t == od::json_type::string && !v.get_string().get(s) && number_from_text(s, d)) {
            out = d;
            return true;
        }
        err = type_error(f, t == od::json_type::string ? "VALUE_STRING" : "VALUE_TRUE");
        return false;
    }
    default:
        break;
    }
    std::string text;
    if (t == od::json_type::string) {
        std::string_view s;
        if (v.get_string().get(s)) {
            err = {"JSON_PARSER_ERROR", "Malformed string for field " + f.name, {f.name}};
            return false;
        }
        text = std::string(s);
    } else if (t == od::json_type::number || t == od::json_type::boolean) {
        // Salesforce turns a JSON number or boolean given for a text field into its text.
        text = std::string(v.raw_json_token());
        while (!text.empty() && text.back() == ' ')
            text.pop_back();
    }
    switch (f.type) {
    case field_type::date:
        if (!valid_date(text)) {
            err = {"JSON_PARSER_ERROR",
                   "Cannot deserialize instance of date from VALUE_STRING value " + text +
                       " or request may be missing a required field",
                   {f.name}};
            return false;
        }
        out = text;
        return true;
    case field_type::datetime: {
        std::string c = canonical_datetime(text);
        if (c.empty()) {
            err = {"JSON_PARSER_ERROR",
                   "Cannot deserialize instance of datetime from VALUE_STRING value " + text +
                       " or request may be missing a required field",
                   {f.name}};
            return false;
        }
        out = std::move(c);
        return true;
    }
    case field_type::time: {
        std::string c = canonical_time(text);
        if (c.empty()) {
            err = {"JSON_PARSER_ERROR",
                   "Cannot deserialize instance of time from VALUE_STRING value " + text,
                   {f.name}};
            return false;
        }
        out = std::move(c);
        return true;
    }
    case field_type::address:
    case field_type::location:
        err = {"INVALID_FIELD_FOR_INSERT_UPDATE",
               "Unable to create/update fields: " + f.name +
                   ". Please check the security settings of this field and verify that it is "
                   "read/write for your profile or permission set.",
               {f.name}};
        return false;
    default:
        out = std::move(text);
        return true;
    }
}

bool read_record(const object_def& o, od::object obj, std::vector<field_value>& out,
                 record_envelope& env, sf_error& err) {
    for (auto member : obj) {
        std::string_view key;
        if (member.unescaped_key().get(key)) {
            err = {"JSON_PARSER_ERROR", "Malformed JSON object", {}};
            return false;
        }
        od::value v;
        if (member.value().get(v)) {
            err = {"JSON_PARSER_ERROR", "Malformed JSON value for " + std::string(key), {}};
            return false;
        }
        if (key == "attributes") {
            od::object attrs;
            if (v.get_object().get(attrs)) {
                err = {"JSON_PARSER_ERROR", "attributes must be an object", {}};
                return false;
            }
            for (auto a : attrs) {
                std::string_view ak, av;
                if (!a.unescaped_key().get(ak) && ak == "type" && !a.value().get_string().get(av))
                    env.type = std::string(av);
            }
            continue;
        }
        if (iequals(key, "id")) {
            std::string_view s;
            if (!v.is_null() && !v.get_string().get(s))
                env.id = std::string(s);
            continue;
        }
        if (od::json_type t; !v.type().get(t) && t == od::json_type::object) {
            // A relationship by the parent's external id, named by the lookup's relationshipName.
            int lookup = -1;
            for (std::size_t i = 0; i < o.fields.size(); ++i)
                if (!o.fields[i].relationship_name.empty() &&
                    iequals(o.fields[i].relationship_name, key) &&
                    !o.fields[i].reference_to.empty())
                    lookup = static_cast<int>(i);
            if (lookup < 0) {
                err = {"INVALID_FIELD",
                       "No such column '" + std::string(key) + "' on sobject of type " + o.name,
                       {}};
                return false;
            }
            reference_by_external_id ref;
            ref.lookup_field = lookup;
            ref.parent = o.fields[static_cast<std::size_t>(lookup)].reference_to[0];
            od::object ro;
            if (v.get_object().get(ro)) {
                err = {"JSON_PARSER_ERROR", "Malformed relationship " + std::string(key), {}};
                return false;
            }
            for (auto rm : ro) {
                std::string_view rk, rv;
                if (rm.unescaped_key().get(rk)) {
                    err = {"JSON_PARSER_ERROR", "Malformed relationship " + std::string(key), {}};
                    return false;
                }
                if (rk == "attributes")
                    continue;
                if (!ref.external_field.empty() || rm.value().get_string().get(rv)) {
                    err = {"INVALID_FIELD",
                           "A relationship by external id takes exactly one field with a text "
                           "value: " +
                               std::string(key),
                           {}};
                    return false;
                }
                ref.external_field = std::string(rk);
                ref.key = std::string(rv);
            }
            if (ref.external_field.empty()) {
                err = {"INVALID_FIELD", "No external id given for " + std::string(key), {}};
                return false;
            }
            env.references.push_back(std::move(ref));
            continue;
        }
        const int idx = o.index_of(key);
        if (idx < 0) {
            err = {"INVALID_FIELD",
                   "No such column '" + std::string(key) + "' on sobject of type " + o.name,
                   {}};
            return false;
        }
        value val;
        if (!read_value(o.fields[static_cast<std::size_t>(idx)], v, val, err))
            return false;
        out.push_back({idx, std::move(val)});
    }
    return true;
}

void write_value(json::writer& w, const object_def& o, const record& r, int field) {
    const field_def& f = o.fields[static_cast<std::size_t>(field)];
    if (f.type == field_type::address || f.type == field_type::location) {
        // Assembled from the parts whose compoundFieldName names this field.
        static constexpr std::pair<std::string_view, std::string_view> parts[] = {
            {"City", "city"},
            {"Country", "country"},
            {"CountryCode", "countryCode"},
            {"GeocodeAccuracy", "geocodeAccuracy"},
            {"Latitude", "latitude"},
            {"Longitude", "longitude"},
            {"PostalCode", "postalCode"},
            {"State", "state"},
            {"StateCode", "stateCode"},
            {"Street", "street"},
            {"Latitude__s", "latitude"},
            {"Longitude__s", "longitude"}};
        bool any = false;
        for (std::size_t i = 0; i < o.fields.size(); ++i)
            if (o.fields[i].compound_field_name == f.name && !is_null(r.get(static_cast<int>(i))))
                any = true;
        if (!any) {
            w.null();
            return;
        }
        w.begin_object();
        for (const auto& [suffix, key] : parts) {
            for (std::size_t i = 0; i < o.fields.size(); ++i) {
                const field_def& part = o.fields[i];
                if (part.compound_field_name != f.name || part.name.size() < suffix.size() ||
                    part.name.compare(part.name.size() - suffix.size(), suffix.size(), suffix) != 0)
                    continue;
                // "Latitude" would also match "Latitude__s": take the exact part only once.
                if ((suffix == "Latitude" || suffix == "Longitude") && part.name.ends_with("__s"))
                    continue;
                w.key(key);
                write_value(w, o, r, static_cast<int>(i));
            }
        }
        w.end_object();
        return;
    }
    const value& v = r.get(field);
    if (is_null(v)) {
        w.null();
        return;
    }
    if (const auto* b = std::get_if<bool>(&v)) {
        w.boolean(*b);
        return;
    }
    if (const auto* d = std::get_if<double>(&v)) {
        w.number(*d);
        return;
    }
    const auto& s = std::get<std::string>(v);
    w.string(f.type == field_type::datetime ? rest_datetime(s) : s);
}

void write_record(json::writer& w, const object_def& o, const record& r,
                  const std::vector<int>& fields, std::string_view api_version) {
    w.begin_object();
    w.key("attributes").begin_object();
    w.member("type", o.name);
    w.member("url",
             "/services/data/v" + std::string(api_version) + "/sobjects/" + o.name + "/" + r.id);
    w.end_object();
    for (int f : fields) {
        w.key(o.fields[static_cast<std::size_t>(f)].name);
        write_value(w, o, r, f);
    }
    w.end_object();
}

std::string value_text(const field_def& f, const value& v) {
    if (is_null(v))
        return {};
    if (const auto* b = std::get_if<bool>(&v))
        return *b ? "true" : "false";
    if (const auto* d = std::get_if<double>(&v)) {
        std::string s;
        json::append_number(s, *d);
        return s;
    }
    (void)f;
    return std::get<std::string>(v);
}

} // namespace sfbridge::sim
