#include "core/prometheus.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace sfbridge::prometheus {

namespace {

bool name_char(char c, bool first, bool colon) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
           (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon) noexcept {
    if (name.empty())
        return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!name_char(name[i], i == 0, colon))
            return false;
    return true;
}

// HELP text escapes backslash and line feed; label values also the double quote.
void append_escaped(std::string& out, std::string_view s, bool quote) {
    for (const char c : s) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (quote && c == '"')
            out += "\\\"";
        else
            out += c;
    }
}

} // namespace

bool valid_metric_name(std::string_view name) noexcept {
    return valid_name(name, true);
}

bool valid_label_name(std::string_view name) noexcept {
    // Names beginning with __ are reserved for Prometheus's own use.
    return valid_name(name, false) && !name.starts_with("__");
}

std::string format_value(double v) {
    if (std::isnan(v))
        return "NaN";
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    // Integral values below 2^53 print exactly, without an exponent (counters read naturally).
    if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0)
        return std::to_string(static_cast<long long>(v));
    char buf[64];
    // The shortest round-trip form, in %g's style as Go's FormatFloat(v, 'g', -1, 64) writes
    // it (client_golang's bucket bounds): 0.0005, not 5e-04.
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
    return std::string(buf, r.ptr);
}

histogram::histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
    if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
        std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end())
        throw std::invalid_argument("histogram bounds must increase");
    counts_.assign(bounds_.size(), 0);
}

void histogram::observe(double v) noexcept {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    if (it != bounds_.end())
        ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
    ++count_;
    sum_ += v;
}

void histogram::merge(const histogram& other) noexcept {
    if (other.bounds_ != bounds_)
        return;
    for (std::size_t i = 0; i < counts_.size(); ++i)
        counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
}

std::uint64_t histogram::cumulative(std::size_t i) const noexcept {
    std::uint64_t n = 0;
    for (std::size_t k = 0; k <= i && k < counts_.size(); ++k)
        n += counts_[k];
    return n;
}

std::vector<double> latency_buckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

std::vector<double> stage_buckets() {
    return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
            0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5};
}

std::vector<double> batch_buckets() {
    return {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
}

void writer::family(std::string_view name, std::string_view type, std::string_view help) {
    if (!valid_metric_name(name))
        throw std::invalid_argument("bad metric name: " + std::string(name));
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    append_escaped(out_, help, false);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
}

void writer::series(std::string_view name, const labels& l, std::string_view extra_name,
                    std::string_view extra_value) {
    if (!valid_metric_name(name))
        throw std::invalid_argument("bad metric name: " + std::string(name));
    out_ += name;
    if (l.empty() && extra_name.empty())
        return;
    out_ += '{';
    bool first = true;
    const auto label = [&](std::string_view k, std::string_view v) {
        if (!valid_label_name(k))
            throw std::invalid_argument("bad label name: " + std::string(k));
        if (!first)
            out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        append_escaped(out_, v, true);
        out_ += '"';
    };
    for (const auto& [k, v] : l)
        label(k, v);
    if (!extra_name.empty())
        label(extra_name, extra_value);
    out_ += '}';
}

void writer::sample(std::string_view name, const labels& l, double v) {
    series(name, l, {}, {});
    out_ += ' ';
    out_ += format_value(v);
    out_ += '\n';
}

void writer::sample(std::string_view name, const labels& l, const histogram& h) {
    const std::string base(name);
    const auto& b = h.upper_bounds();
    for (std::size_t i = 0; i < b.size(); ++i) {
        series(base + "_bucket", l, "le", format_value(b[i]));
        out_ += ' ' + format_value(static_cast<double>(h.cumulative(i))) + '\n';
    }
    series(base + "_bucket", l, "le", "+Inf");
    out_ += ' ' + format_value(static_cast<double>(h.count())) + '\n';
    sample(base + "_sum", l, h.sum());
    sample(base + "_count", l, static_cast<double>(h.count()));
}

} // namespace sfbridge::prometheus
