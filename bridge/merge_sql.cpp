#include "bridge/merge_sql.hpp"

#include "mappings/ddl.hpp"
#include "mappings/types.hpp"

namespace sfbridge::bridge::merge_sql {

using mappings::quote_identifier;

std::string stage_table(const mappings::resolved_mapping& m) {
    return quote_identifier("_sfbridge_stage_" + m.table);
}

std::string create_stage(const mappings::resolved_mapping& m) {
    std::string s = "CREATE TEMP TABLE IF NOT EXISTS " + stage_table(m) + " (_op \"char\"";
    for (const auto& f : m.fields)
        s += ", " + quote_identifier(f.column) + " " + f.pg_type;
    s += ") ON COMMIT DELETE ROWS";
    return s;
}

std::string copy_into_table(std::string_view schema, const mappings::resolved_mapping& m) {
    std::string s = "COPY " + quote_identifier(schema) + "." + quote_identifier(m.table) + " (";
    bool first = true;
    for (const auto& f : m.fields) {
        s += (first ? "" : ", ") + quote_identifier(f.column);
        first = false;
    }
    s += ", _hc_lastop) FROM STDIN";
    return s;
}

std::string copy_into_stage(const mappings::resolved_mapping& m) {
    std::string s = "COPY " + stage_table(m) + " (_op";
    for (const auto& f : m.fields)
        s += ", " + quote_identifier(f.column);
    s += ") FROM STDIN";
    return s;
}

namespace {
// The merge's statements, reading the batch from `source` (aliased s): the staging table, or
// the VALUES list of a one-statement merge.
struct merge_parts {
    std::string link; // empty without an upsert field
    std::string upsert, untomb, remove, leave, tomb;
};

merge_parts merge_statements(std::string_view schema, const mappings::resolved_mapping& m,
                             const std::string& source) {
    const std::string t = quote_identifier(schema) + "." + quote_identifier(m.table);
    const std::string tomb = quote_identifier(schema) + "._sfbridge_deleted";
    const std::string obj = mappings::ddl::quote_literal(m.object_name);
    const std::string& stage = source;
    const std::string deleted_at = quote_identifier(mappings::deleted_at_column);
    std::string cols, s_cols, updates, old_row, new_row;
    for (const auto& f : m.fields) {
        const std::string c = quote_identifier(f.column);
        if (!cols.empty()) {
            cols += ", ";
            s_cols += ", ";
        }
        cols += c;
        s_cols += "s." + c;
        if (f.column != "sfid") {
            if (!updates.empty()) {
                updates += ", ";
                old_row += ", ";
                new_row += ", ";
            }
            updates += c + " = EXCLUDED." + c;
            old_row += t + "." + c;
            new_row += "EXCLUDED." + c;
        }
    }
    merge_parts p;
    if (m.upsert_field) {
        // A record the app inserted whose sfid has not come back yet (the write-back died
        // between Salesforce's create and its own commit, or has not recorded it yet): the row
        // is matched by the unique external id and takes the sfid, as Heroku Connect matches
        // on sfid, then on the upsert field. Without this the insert below would violate the
        // external id's unique index (or, without one, duplicate the row).
        const std::string ext = quote_identifier(m.field(*m.upsert_field)->column);
        p.link = "UPDATE " + t + " SET sfid = s.sfid FROM " + stage + " s WHERE s._op = 'u' AND " +
                 t + ".sfid IS NULL AND s." + ext + " IS NOT NULL AND " + t + "." + ext + " = s." +
                 ext;
    }
    // Upserts that no newer delete has overtaken.
    p.upsert = "INSERT INTO " + t + " (" + cols + ") SELECT " + s_cols + " FROM " + stage +
               " s WHERE s._op = 'u' AND NOT EXISTS (SELECT 1 FROM " + tomb +
               " d WHERE d.object_name = " + obj +
               " AND d.sfid = s.sfid AND d.systemmodstamp > s.systemmodstamp)"
               " ON CONFLICT (sfid) DO UPDATE SET " +
               updates + (m.soft_deletes() ? ", " + deleted_at + " = NULL" : std::string()) +
               ", _hc_lastop = 'SYNCED', _hc_err = NULL WHERE (" + t +
               ".systemmodstamp IS NULL OR " + t +
               ".systemmodstamp <= EXCLUDED.systemmodstamp)"
               // The same version again (a replayed event, an overlapping poll, the echo of
               // sfbridge's own write) changes nothing: no row version, no trigger, no WAL.
               " AND (" +
               old_row + ") IS DISTINCT FROM (" + new_row + ")";
    p.untomb = "DELETE FROM " + tomb + " d USING " + stage +
               " s WHERE s._op = 'u' AND d.object_name = " + obj +
               " AND d.sfid = s.sfid AND d.systemmodstamp <= s.systemmodstamp";
    // Deletes, unless the row is newer than the delete. Soft (sfbridge_deletes): the row stays,
    // marked deleted at the delete's SystemModstamp; an undelete (an upsert) clears the mark.
    const std::string newer_than_row = t + ".sfid = s.sfid AND (" + t +
                                       ".systemmodstamp IS NULL OR " + t +
                                       ".systemmodstamp <= s.systemmodstamp)";
    // A record that left the row filter ('x') goes like a hard delete, soft deletes or not.
    if (m.soft_deletes()) {
        p.remove = "UPDATE " + t + " SET isdeleted = true, systemmodstamp = s.systemmodstamp, " +
                   deleted_at + " = s.systemmodstamp, _hc_lastop = 'SYNCED', _hc_err = NULL FROM " +
                   stage + " s WHERE s._op = 'd' AND " + newer_than_row + " AND " + t +
                   ".isdeleted IS NOT TRUE";
        if (m.options.filter)
            p.leave = "DELETE FROM " + t + " USING " + stage + " s WHERE s._op = 'x' AND " +
                      newer_than_row;
    } else {
        p.remove =
            "DELETE FROM " + t + " USING " + stage + " s WHERE s._op <> 'u' AND " + newer_than_row;
    }
    // The tombstone keeps an older version of the record (a late event, an overlapping poll)
    // from bringing the row back; a newer one (an undelete, a record back in the filter) wins.
    p.tomb = "INSERT INTO " + tomb + " (object_name, sfid, systemmodstamp) SELECT " + obj +
             ", s.sfid, s.systemmodstamp FROM " + stage +
             " s WHERE s._op <> 'u' ON CONFLICT (object_name, sfid) DO UPDATE SET systemmodstamp = "
             "GREATEST(" +
             tomb + ".systemmodstamp, EXCLUDED.systemmodstamp)";
    return p;
}
} // namespace

std::string merge(std::string_view schema, const mappings::resolved_mapping& m) {
    const auto p = merge_statements(schema, m, stage_table(m));
    std::string s;
    for (const std::string* part : {&p.link, &p.upsert, &p.untomb, &p.remove, &p.leave, &p.tomb})
        if (!part->empty())
            s += *part + ";\n";
    return s;
}

std::string merge_values(std::string_view schema, const mappings::resolved_mapping& m,
                         std::size_t rows) {
    // Each row's parameters: _op, then the mapping's columns, cast to their types (VALUES
    // takes its column types from them).
    std::string values, names = "_op";
    for (const auto& f : m.fields)
        names += ", " + quote_identifier(f.column);
    std::size_t n = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        values += r ? ", ($" : "($";
        values += std::to_string(++n) + "::\"char\"";
        for (const auto& f : m.fields)
            values += ", $" + std::to_string(++n) + "::" + f.pg_type;
        values += ")";
    }
    const auto p = merge_statements(schema, m, "_src");
    // Data-modifying CTEs all run, on one snapshot: safe because a batch names each record
    // once (change_batch keeps the newest version), so no two parts touch the same row.
    const std::string leave = p.leave.empty() ? std::string() : "), _leave AS (" + p.leave;
    return "WITH _src (" + names + ") AS (VALUES " + values + "), _upsert AS (" + p.upsert +
           "), _untomb AS (" + p.untomb + "), _remove AS (" + p.remove + leave + "), _tomb AS (" +
           p.tomb + ") SELECT 1";
}

} // namespace sfbridge::bridge::merge_sql
