// The mapped columns against the table as it is: what exists, and how a column follows its
// field's length or type changed in Salesforce (issue 20).
#include "mappings/ddl.hpp"

#include <algorithm>
#include <cstdlib>

namespace sfbridge::mappings::ddl {

namespace {
std::string qualified(std::string_view schema, std::string_view name) {
    return quote_identifier(schema) + "." + quote_identifier(name);
}
} // namespace

std::string_view existing_columns_query() noexcept {
    return "SELECT column_name, coalesce(character_maximum_length, 0), data_type FROM "
           "information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY "
           "ordinal_position";
}

std::string widen_columns(std::string_view schema, const resolved_mapping& m,
                          const std::map<std::string, int>& lengths) {
    std::string s;
    for (const auto& f : m.fields) {
        const auto had = lengths.find(f.column);
        if (had == lengths.end() || had->second <= 0 || !f.pg_type.starts_with("varchar("))
            continue;
        const int wanted = std::atoi(f.pg_type.c_str() + 8);
        if (wanted > had->second)
            s += "ALTER TABLE " + qualified(schema, m.table) + " ALTER COLUMN " +
                 quote_identifier(f.column) + " TYPE " + f.pg_type + ";\n";
    }
    return s;
}

namespace {
enum class family { text, number, datetime, time, boolean, other };

family family_of_data_type(std::string_view t) {
    if (t == "character varying" || t == "text" || t == "character")
        return family::text;
    if (t == "double precision" || t == "integer" || t == "bigint" || t == "numeric" ||
        t == "real" || t == "smallint")
        return family::number;
    if (t == "date" || t.starts_with("timestamp"))
        return family::datetime;
    if (t.starts_with("time"))
        return family::time;
    if (t == "boolean")
        return family::boolean;
    return family::other;
}

// A pg_type of types.cpp in information_schema's spelling.
std::string data_type_of(std::string_view pg_type) {
    if (pg_type.starts_with("varchar("))
        return "character varying";
    if (pg_type == "timestamp")
        return "timestamp without time zone";
    if (pg_type == "time")
        return "time without time zone";
    return std::string(pg_type);
}
} // namespace

type_plan follow_types(std::string_view schema, const resolved_mapping& m,
                       const std::map<std::string, existing_column>& existing,
                       const std::vector<std::string>& retyped) {
    type_plan p;
    for (const auto& f : m.fields) {
        const auto had = existing.find(f.column);
        if (had == existing.end())
            continue;
        const std::string wanted = data_type_of(f.pg_type);
        const bool was_retyped =
            std::find(retyped.begin(), retyped.end(), f.column) != retyped.end();
        // A varchar made text (a text area grown past 4,000 characters, whose type name stays
        // the same) loses nothing, retyped or not.
        const bool grown = wanted == "text" && had->second.data_type == "character varying";
        if (!was_retyped && !grown)
            continue;
        if (wanted == had->second.data_type) {
            // Retyped, and the column has the type already (a start that altered it failed
            // before it recorded the new type): followed, its values still to back-fill.
            p.alters.emplace_back(f.column, std::string());
            continue;
        }
        const family from = family_of_data_type(had->second.data_type);
        const family to = family_of_data_type(wanted);
        // Between varchars, widen_columns makes them longer; text stays text.
        if (to == family::text && from == family::text && wanted != "text")
            continue;
        if (to == family::text || (to == from && to != family::other)) {
            const std::string c = quote_identifier(f.column);
            p.alters.emplace_back(f.column, "ALTER TABLE " + qualified(schema, m.table) +
                                                " ALTER COLUMN " + c + " TYPE " + f.pg_type +
                                                " USING " + c +
                                                (to == family::text ? "::text" : "::" + f.pg_type));
            continue;
        }
        p.skipped.push_back(f.sf.info.name);
        p.messages.push_back("mapping " + m.object_name + ": field " + f.sf.info.name + " is now " +
                             f.sf.info.type + " in Salesforce, which column " + f.column + " (" +
                             had->second.data_type +
                             ") cannot hold: syncing without it (alter or drop the column to "
                             "sync it again)");
    }
    return p;
}

} // namespace sfbridge::mappings::ddl
