#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

// A small structured logger for a single-threaded process. Lines are logfmt by default or JSON
// objects, one per line, on stderr (or a sink that tests install). Callers must never pass
// secrets or server-supplied bodies at info level; see docs/security.md.
namespace sfbridge::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };
enum class format { logfmt, json };

struct field {
    std::string_view key;
    std::string value;

    field(std::string_view k, std::string_view v) : key(k), value(v) {}
    field(std::string_view k, const char* v) : key(k), value(v) {}
    field(std::string_view k, const std::string& v) : key(k), value(v) {}
    field(std::string_view k, long long v) : key(k), value(std::to_string(v)) {}
    field(std::string_view k, int v) : key(k), value(std::to_string(v)) {}
    field(std::string_view k, unsigned long v) : key(k), value(std::to_string(v)) {}
    field(std::string_view k, unsigned long long v) : key(k), value(std::to_string(v)) {}
    field(std::string_view k, double v) : key(k), value(std::to_string(v)) {}
};

void set_min_level(level l) noexcept;
[[nodiscard]] bool enabled(level l) noexcept;
void set_format(format f) noexcept;

// Replaces the output (stderr) with a callback that receives each formatted line without its
// newline; an empty function restores stderr.
void set_sink(std::function<void(std::string_view)> sink);

// Parses "debug", "info", "warn" or "error"; returns false on anything else.
[[nodiscard]] bool parse_level(std::string_view text, level& out) noexcept;

void write(level l, std::string_view component, std::string_view message,
           std::initializer_list<field> fields = {});

inline void debug(std::string_view component, std::string_view message,
                  std::initializer_list<field> fields = {}) {
    if (enabled(level::debug))
        write(level::debug, component, message, fields);
}
inline void info(std::string_view component, std::string_view message,
                 std::initializer_list<field> fields = {}) {
    if (enabled(level::info))
        write(level::info, component, message, fields);
}
inline void warn(std::string_view component, std::string_view message,
                 std::initializer_list<field> fields = {}) {
    if (enabled(level::warn))
        write(level::warn, component, message, fields);
}
inline void error(std::string_view component, std::string_view message,
                  std::initializer_list<field> fields = {}) {
    write(level::error, component, message, fields);
}

// Formats one line without writing it (exposed for tests).
[[nodiscard]] std::string format_line(format f, level l, std::string_view timestamp,
                                      std::string_view component, std::string_view message,
                                      std::initializer_list<field> fields);

} // namespace sfbridge::log
