#include "sim/schema_edit.hpp"

#include "core/json_writer.hpp"

#include <simdjson.h>

namespace sfbridge::sim {

namespace {

std::string soap_type(field_type t) {
    switch (t) {
    case field_type::id:
    case field_type::reference:
        return "tns:ID";
    case field_type::boolean:
        return "xsd:boolean";
    case field_type::integer:
        return "xsd:int";
    case field_type::double_:
    case field_type::currency:
    case field_type::percent:
        return "xsd:double";
    case field_type::date:
        return "xsd:date";
    case field_type::datetime:
        return "xsd:dateTime";
    case field_type::time:
        return "xsd:time";
    default:
        return "xsd:string";
    }
}

// A field's describe text from its definition: the keys clients read, in Salesforce's spelling.
std::string field_text(const field_def& f) {
    std::string out;
    json::writer w(out);
    w.begin_object()
        .member("aggregatable", true)
        .member("autoNumber", f.auto_number)
        .member("byteLength", f.length * 3)
        .member("calculated", f.calculated)
        .key("calculatedFormula");
    if (f.formula.valid())
        w.string(f.formula.text());
    else
        w.null();
    w.key("compoundFieldName");
    if (f.compound_field_name.empty())
        w.null();
    else
        w.string(f.compound_field_name);
    w.member("createable", f.createable)
        .member("custom", f.name.ends_with("__c"))
        .key("defaultValue");
    if (f.default_boolean)
        w.boolean(*f.default_boolean);
    else
        w.null();
    w.member("defaultedOnCreate", f.defaulted_on_create)
        .member("deprecatedAndHidden", false)
        .member("digits", f.digits)
        .member("externalId", f.external_id)
        .key("extraTypeInfo")
        .null()
        .member("filterable", f.filterable)
        .member("htmlFormatted", false)
        .member("idLookup", f.id_lookup)
        .member("label", f.label)
        .member("length", f.length)
        .member("name", f.name)
        .member("nillable", f.nillable)
        .key("picklistValues")
        .begin_array();
    const bool picklist = f.type == field_type::picklist || f.type == field_type::multipicklist ||
                          f.type == field_type::combobox;
    for (const auto& v : picklist ? f.picklist_values : std::vector<std::string>{})
        w.begin_object()
            .member("active", true)
            .member("defaultValue", v == f.default_picklist_value)
            .member("label", v)
            .member("value", v)
            .end_object();
    w.end_array().member("precision", f.precision).key("referenceTo").begin_array();
    for (const auto& r : f.reference_to)
        w.string(r);
    w.end_array().key("relationshipName");
    if (f.relationship_name.empty())
        w.null();
    else
        w.string(f.relationship_name);
    w.member("restrictedPicklist", f.restricted_picklist)
        .member("scale", f.scale)
        .member("soapType", soap_type(f.type))
        .member("sortable", true)
        .member("type", f.type_name)
        .member("unique", f.unique)
        .member("updateable", f.updateable)
        .end_object();
    return out;
}

// The describe again from the one loaded: each field as loaded unless edited (then its new
// text), hidden ones left out, added ones at the end.
bool rebuild_describe(object_def& o, std::string& error) {
    if (o.loaded_template.empty())
        o.loaded_template = o.describe_template;
    simdjson::dom::parser parser;
    simdjson::dom::object root;
    if (parser.parse(o.loaded_template).get(root)) {
        error = "the loaded describe of " + o.name + " cannot be read again";
        return false;
    }
    std::string out;
    json::writer w(out);
    w.begin_object();
    for (auto [key, value] : root) {
        w.key(key);
        if (key != "fields") {
            w.raw(simdjson::minify(value));
            continue;
        }
        std::unordered_map<std::string, bool> written;
        w.begin_array();
        simdjson::dom::array loaded;
        if (!value.get(loaded))
            for (auto e : loaded) {
                std::string_view name;
                if (e["name"].get(name))
                    continue;
                const std::string lname = to_lower(name);
                written[lname] = true;
                const field_def* f = o.find(name);
                if (f == nullptr) // hidden
                    continue;
                auto it = o.field_json.find(lname);
                w.raw(it != o.field_json.end() ? it->second : simdjson::minify(e));
            }
        for (const auto& f : o.fields)
            if (!f.hidden && !written.contains(f.lname))
                w.raw(o.field_json.at(f.lname));
        w.end_array();
    }
    w.end_object();
    o.describe_template = std::move(out);
    return true;
}

bool read_rollup(const schema& s, const object_def& o, simdjson::dom::object r, rollup_def& out,
                 std::string& error) {
    std::string_view child, via, op, field;
    auto text = [&](const char* key, std::string_view& value) {
        if (r[key].get(value) != simdjson::SUCCESS)
            value = {};
    };
    text("child", child);
    text("via", via);
    text("op", op);
    text("field", field);
    out = {std::string(child), std::string(via), std::string(op), std::string(field)};
    const object_def* c = s.find(child);
    const field_def* lookup = c ? c->find(via) : nullptr;
    if (!c || !lookup || lookup->reference_to.empty() ||
        !iequals(lookup->reference_to.front(), o.name)) {
        error = "rollup: \"child\" and \"via\" must name an object and its lookup to " + o.name;
        return false;
    }
    if (op != "COUNT" && op != "SUM") {
        error = "rollup: \"op\" is COUNT or SUM";
        return false;
    }
    if (op == "SUM") {
        const field_def* summed = c->find(field);
        if (!summed || !is_number_type(summed->type)) {
            error = "rollup: SUM needs a number \"field\" of " + c->name;
            return false;
        }
    }
    return true;
}

void make_defaults(field_def& f) {
    f.createable = f.updateable = true;
    f.nillable = true;
    f.filterable = true;
    f.type_name = "string";
    f.length = 255;
}

} // namespace

bool edit_field(const schema& s, object_def& o, std::string_view json, field_change& out,
                std::string& error) {
    simdjson::dom::parser parser;
    simdjson::dom::object body;
    if (parser.parse(json.data(), json.size()).get(body)) {
        error = "a field is a JSON object";
        return false;
    }
    std::string_view name;
    if (body["name"].get(name) || name.empty()) {
        error = "the field needs a \"name\"";
        return false;
    }
    // Hidden fields are found too: giving one again brings it back.
    const std::string lname = to_lower(name);
    int index = -1;
    for (std::size_t i = 0; i < o.fields.size(); ++i)
        if (o.fields[i].lname == lname)
            index = static_cast<int>(i);
    field_def f;
    if (index >= 0) {
        f = o.fields[static_cast<std::size_t>(index)];
    } else {
        make_defaults(f);
        f.name = std::string(name);
    }
    const field_type before = f.type;
    if (!read_field(json, f, error))
        return false;
    f.hidden = false;
    if (index < 0 && !is_text_type(f.type)) { // the defaults were for text
        simdjson::dom::element ignored;
        if (body["length"].get(ignored))
            f.length = 0;
        if (is_number_type(f.type) && body["precision"].get(ignored))
            f.precision = 18;
    }
    if (f.type == field_type::other) {
        error = "unknown field type \"" + f.type_name + "\"";
        return false;
    }
    auto index_of = [&](std::string_view n) {
        const int i = o.index_of(n);
        return i >= 0 && to_lower(n) != lname ? i : -1;
    };
    std::string_view text;
    if (!body["formula"].get(text)) {
        f.formula = formula::expression::compile(text, index_of, error);
        if (!f.formula.valid()) {
            error = "formula of " + f.name + ": " + error;
            return false;
        }
        f.rollup.reset();
    }
    simdjson::dom::object r;
    if (!body["rollup"].get(r)) {
        rollup_def def;
        if (!read_rollup(s, o, r, def, error))
            return false;
        f.rollup = std::move(def);
        f.formula = {};
    }
    out.computed = f.formula.valid() || f.rollup.has_value();
    if (out.computed) {
        f.calculated = true;
        f.createable = f.updateable = false;
        f.nillable = true;
    }
    out.added = index < 0;
    if (index >= 0 && before != f.type)
        out.old_type = before;
    if (index < 0) {
        index = static_cast<int>(o.fields.size());
        o.fields.push_back(std::move(f));
    } else {
        o.fields[static_cast<std::size_t>(index)] = std::move(f);
    }
    const field_def& now = o.fields[static_cast<std::size_t>(index)];
    o.by_lname[now.lname] = index;
    o.field_json[now.lname] = field_text(now);
    out.index = index;
    return rebuild_describe(o, error);
}

bool hide_field(object_def& o, std::string_view name, std::string& error) {
    const int index = o.index_of(name);
    if (index < 0) {
        error = o.name + " has no field " + std::string(name);
        return false;
    }
    field_def& f = o.fields[static_cast<std::size_t>(index)];
    for (const char* fixed :
         {"Id", "SystemModstamp", "CreatedDate", "LastModifiedDate", "IsDeleted"})
        if (iequals(f.name, fixed)) {
            error = f.name + " cannot be removed";
            return false;
        }
    f.hidden = true;
    o.by_lname.erase(f.lname);
    return rebuild_describe(o, error);
}

} // namespace sfbridge::sim
