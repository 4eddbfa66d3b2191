#include "bridge/schema_change.hpp"

#include <algorithm>

namespace sfbridge::bridge::schema_change {

namespace {
struct parts {
    std::vector<std::string> columns;
    std::string filter;
};

parts split_signature(std::string_view s) {
    parts p;
    constexpr std::string_view where = " WHERE ";
    const auto at = s.find(where);
    if (at != std::string_view::npos) {
        p.filter = std::string(s.substr(at + where.size()));
        s = s.substr(0, at);
    }
    p.columns = split_columns(s);
    return p;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}
} // namespace

std::vector<std::string> fields_changed(const mappings::resolved_mapping& running,
                                        const mappings::object_describe& now) {
    std::vector<std::string> out;
    for (const auto& f : running.fields) {
        const auto* d = now.field(f.sf.info.name);
        if (!d || d->deprecated_and_hidden || d->info.type != f.sf.info.type)
            out.push_back(f.sf.info.name);
    }
    return out;
}

std::string field_types(const mappings::resolved_mapping& m,
                        const std::map<std::string, std::string>& keep) {
    std::map<std::string, std::string> all = keep;
    for (const auto& f : m.fields)
        all[f.column] = f.sf.info.type;
    std::string out;
    for (const auto& [column, type] : all)
        out += (out.empty() ? "" : ",") + column + "=" + type;
    return out;
}

std::map<std::string, std::string> parse_field_types(std::string_view text) {
    std::map<std::string, std::string> out;
    for (const auto& item : split_columns(text)) {
        const auto eq = item.find('=');
        if (eq != std::string::npos)
            out[item.substr(0, eq)] = item.substr(eq + 1);
    }
    return out;
}

std::vector<std::string> retyped_columns(const mappings::resolved_mapping& m,
                                         const std::map<std::string, std::string>& stored) {
    std::vector<std::string> out;
    for (const auto& f : m.fields) {
        const auto it = stored.find(f.column);
        if (it != stored.end() && it->second != f.sf.info.type)
            out.push_back(f.column);
    }
    return out;
}

std::vector<std::string> split_columns(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const auto item = text.substr(0, comma);
        if (!item.empty())
            out.emplace_back(item);
        if (comma == std::string_view::npos)
            break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

std::string join_columns(const std::vector<std::string>& columns) {
    std::string out;
    for (const auto& c : columns)
        out += (out.empty() ? "" : ",") + c;
    return out;
}

signature_diff compare(std::string_view stored, std::string_view now) {
    signature_diff d;
    if (stored.empty())
        return d;
    const parts before = split_signature(stored), after = split_signature(now);
    d.reload = before.filter != after.filter;
    for (const auto& c : after.columns)
        if (!contains(before.columns, c))
            d.added.push_back(c);
    for (const auto& c : before.columns)
        if (!contains(after.columns, c))
            d.removed.push_back(c);
    return d;
}

std::vector<std::string> backfill_after(const std::vector<std::string>& pending,
                                        const signature_diff& diff,
                                        const mappings::resolved_mapping& m,
                                        const std::vector<std::string>& followed) {
    std::vector<std::string> out;
    if (diff.reload)
        return out;
    auto add = [&](const std::string& c) {
        if (m.by_column(c) && !contains(out, c))
            out.push_back(c);
    };
    for (const auto& c : pending)
        add(c);
    for (const auto& c : diff.added)
        add(c);
    for (const auto& c : followed)
        add(c);
    return out;
}

} // namespace sfbridge::bridge::schema_change
