#include "core/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace sfbridge::log {
namespace {

level g_min_level = level::info;
format g_format = format::logfmt;
std::function<void(std::string_view)> g_sink;

std::string_view level_name(level l) noexcept {
    switch (l) {
    case level::debug:
        return "debug";
    case level::info:
        return "info";
    case level::warn:
        return "warn";
    case level::error:
        return "error";
    }
    return "unknown";
}

// logfmt: a value needs quotes when it is empty or holds a space, '=', '"' or a control byte.
void append_logfmt_value(std::string& out, std::string_view v) {
    bool needs_quotes = v.empty();
    for (char c : v) {
        if (c == ' ' || c == '=' || c == '"' || static_cast<unsigned char>(c) < 0x20) {
            needs_quotes = true;
            break;
        }
    }
    if (!needs_quotes) {
        out += v;
        return;
    }
    out += '"';
    for (char c : v) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

void append_json_string(std::string& out, std::string_view v) {
    out += '"';
    for (char c : v) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

std::string now_timestamp() {
    using namespace std::chrono;
    auto now = system_clock::now();
    auto secs = time_point_cast<seconds>(now);
    auto millis = duration_cast<milliseconds>(now - secs).count();
    std::time_t t = system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
    return buf;
}

} // namespace

void set_min_level(level l) noexcept {
    g_min_level = l;
}
bool enabled(level l) noexcept {
    return l >= g_min_level;
}
void set_format(format f) noexcept {
    g_format = f;
}
void set_sink(std::function<void(std::string_view)> sink) {
    g_sink = std::move(sink);
}

bool parse_level(std::string_view text, level& out) noexcept {
    for (level l : {level::debug, level::info, level::warn, level::error}) {
        if (text == level_name(l)) {
            out = l;
            return true;
        }
    }
    return false;
}

std::string format_line(format f, level l, std::string_view timestamp, std::string_view component,
                        std::string_view message, std::initializer_list<field> fields) {
    std::string line;
    line.reserve(96);
    if (f == format::json) {
        line += "{\"ts\":";
        append_json_string(line, timestamp);
        line += ",\"level\":";
        append_json_string(line, level_name(l));
        line += ",\"component\":";
        append_json_string(line, component);
        line += ",\"msg\":";
        append_json_string(line, message);
        for (const field& fl : fields) {
            line += ',';
            append_json_string(line, fl.key);
            line += ':';
            append_json_string(line, fl.value);
        }
        line += '}';
    } else {
        line += "ts=";
        line += timestamp;
        line += " level=";
        line += level_name(l);
        line += " component=";
        append_logfmt_value(line, component);
        line += " msg=";
        append_logfmt_value(line, message);
        for (const field& fl : fields) {
            line += ' ';
            line += fl.key;
            line += '=';
            append_logfmt_value(line, fl.value);
        }
    }
    return line;
}

void write(level l, std::string_view component, std::string_view message,
           std::initializer_list<field> fields) {
    if (!enabled(l))
        return;
    std::string line = format_line(g_format, l, now_timestamp(), component, message, fields);
    if (g_sink) {
        g_sink(line);
        return;
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace sfbridge::log
