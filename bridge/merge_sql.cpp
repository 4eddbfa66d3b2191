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
    s += ") FROM STDIN";
    return s;
}

std::string copy_into_stage(const mappings::resolved_mapping& m) {
    std::string s = "COPY " + stage_table(m) + " (_op";
    for (const auto& f : m.fields)
        s += ", " + quote_identifier(f.column);
    s += ") FROM STDIN";
    return s;
}

std::string merge(std::string_view schema, const mappings::resolved_mapping& m) {
    const std::string t = quote_identifier(schema) + "." + quote_identifier(m.table);
    const std::string tomb = quote_identifier(schema) + "._sfbridge_deleted";
    const std::string obj = mappings::ddl::quote_literal(m.object_name);
    const std::string stage = stage_table(m);
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
    std::string s;
    if (m.upsert_field) {
        // A record the app inserted whose sfid has not come back yet (the write-back died
        // between Salesforce's create and its own commit, or has not recorded it yet): the row
        // is matched by the unique external id and takes the sfid, as Heroku Connect matches
        // on sfid, then on the upsert field. Without this the insert below would violate the
        // external id's unique index (or, without one, duplicate the row).
        const std::string ext = quote_identifier(m.field(*m.upsert_field)->column);
        s += "UPDATE " + t + " SET sfid = s.sfid FROM " + stage + " s WHERE s._op = 'u' AND " +
             t + ".sfid IS NULL AND s." + ext + " IS NOT NULL AND " + t + "." + ext + " = s." +
             ext + ";\n";
    }
    // Upserts that no newer delete has overtaken.
    s += "INSERT INTO " + t + " (" + cols + ") SELECT " + s_cols + " FROM " + stage +
         " s WHERE s._op = 'u' AND NOT EXISTS (SELECT 1 FROM " + tomb +
         " d WHERE d.object_name = " + obj +
         " AND d.sfid = s.sfid AND d.systemmodstamp > s.systemmodstamp)"
         " ON CONFLICT (sfid) DO UPDATE SET " +
         updates + ", _hc_lastop = 'SYNCED', _hc_err = NULL WHERE (" + t +
         ".systemmodstamp IS NULL OR " + t +
         ".systemmodstamp <= EXCLUDED.systemmodstamp)"
         // The same version again (a replayed event, an overlapping poll, the echo of
         // sfbridge's own write) changes nothing: no row version, no trigger, no WAL.
         " AND (" +
         old_row + ") IS DISTINCT FROM (" + new_row + ");\n";
    s += "DELETE FROM " + tomb + " d USING " + stage +
         " s WHERE s._op = 'u' AND d.object_name = " + obj +
         " AND d.sfid = s.sfid AND d.systemmodstamp <= s.systemmodstamp;\n";
    // Deletes, unless the row is newer than the delete.
    s += "DELETE FROM " + t + " USING " + stage + " s WHERE s._op = 'd' AND " + t +
         ".sfid = s.sfid AND (" + t + ".systemmodstamp IS NULL OR " + t +
         ".systemmodstamp <= s.systemmodstamp);\n";
    s += "INSERT INTO " + tomb + " (object_name, sfid, systemmodstamp) SELECT " + obj +
         ", s.sfid, s.systemmodstamp FROM " + stage +
         " s WHERE s._op = 'd' ON CONFLICT (object_name, sfid) DO UPDATE SET systemmodstamp = "
         "GREATEST(" +
         tomb + ".systemmodstamp, EXCLUDED.systemmodstamp);\n";
    return s;
}

} // namespace sfbridge::bridge::merge_sql
