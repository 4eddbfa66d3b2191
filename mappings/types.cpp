#include "mappings/types.hpp"

#include "core/text.hpp"

namespace sfbridge::mappings {

namespace {
// Short text areas (up to 255 characters, or the 1000 of User.AboutMe) keep varchar(n) in real
// Heroku Connect DDL; long and rich ones (32,768 and more) are text. The exact cut is not in
// the reference: 4,000 is sfbridge's choice, between the two kinds.
constexpr int longest_varchar_textarea = 4000;

std::string varchar(int length) {
    return "varchar(" + std::to_string(length > 0 ? length : 255) + ")";
}
} // namespace

std::optional<std::string> postgres_type(const sf_field_info& f) {
    const std::string t = text::ascii_lower(f.type);
    if (t == "id" || t == "reference")
        return "varchar(18)";
    if (t == "string" || t == "picklist" || t == "combobox" || t == "encryptedstring" ||
        t == "email" || t == "phone" || t == "url")
        return varchar(f.length);
    if (t == "multipicklist")
        return "varchar(4099)";
    if (t == "textarea") {
        if (f.html_formatted || f.extra_type_info == "richtextarea" ||
            f.length > longest_varchar_textarea)
            return "text";
        return varchar(f.length);
    }
    if (t == "boolean")
        return "boolean";
    if (t == "double" || t == "currency" || t == "percent")
        return "double precision";
    if (t == "int")
        return "integer";
    if (t == "long")
        return "bigint";
    if (t == "date")
        return "date";
    if (t == "datetime")
        return "timestamp"; // without time zone; values are UTC, as Heroku Connect stores them
    if (t == "time")
        return "time";
    if (t == "address" || t == "location")
        return std::nullopt;
    return "text"; // anyType, base64, complexvalue, json and anything newer
}

std::string column_name(std::string_view sf_name) {
    return pg_identifier(text::ascii_lower(sf_name));
}

std::string pg_identifier(std::string_view name) {
    constexpr std::size_t most = 63, kept = 54;
    if (name.size() <= most)
        return std::string(name);
    std::uint32_t hash = 2166136261u;
    for (unsigned char c : name) {
        hash ^= c;
        hash *= 16777619u;
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(name.substr(0, kept));
    out += '_';
    for (int shift = 28; shift >= 0; shift -= 4)
        out += hex[(hash >> shift) & 0xF];
    return out;
}

std::string quote_identifier(std::string_view name) {
    std::string out = "\"";
    for (char c : name) {
        if (c == '"')
            out += '"';
        out += c;
    }
    out += '"';
    return out;
}

} // namespace sfbridge::mappings
