#include "sim/synthetic.hpp"

#include <stdexcept>

namespace sfbridge::sim {

namespace {
constexpr std::string_view base62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
}

// The value of the first "key": "value" pair, replaced (keyPrefix and labelPlural are the
// object's own: no field has them).
void replace_value(std::string& s, std::string_view key, std::string_view value) {
    const std::string quoted = "\"" + std::string(key) + "\"";
    const auto at = s.find(quoted);
    if (at == std::string::npos)
        throw std::runtime_error("synthetic objects: the template has no " + quoted);
    const auto open = s.find('"', s.find(':', at + quoted.size()) + 1);
    const auto close = s.find('"', open + 1);
    if (open == std::string::npos || close == std::string::npos)
        throw std::runtime_error("synthetic objects: the template's " + quoted + " is no string");
    s.replace(open + 1, close - open - 1, value);
}
} // namespace

std::string synthetic_name(int i) {
    return "Sim_Object_" + std::to_string(i) + "__c";
}

std::string synthetic_key_prefix(int i) {
    const auto n = static_cast<std::size_t>(i);
    return std::string("b") + base62[n / 62 % 62] + base62[n % 62];
}

std::string synthetic_describe(const object_def& t, std::string_view text, int i) {
    std::string s(text);
    const std::string prefix = synthetic_key_prefix(i);
    replace_value(s, "keyPrefix", prefix);
    replace_value(s, "labelPlural", "Sim Objects " + std::to_string(i));
    replace_all(s, "/" + t.key_prefix + "/", "/" + prefix + "/"); // the new-record URL
    replace_all(s, t.name, synthetic_name(i));
    replace_all(s, t.label, "Sim Object " + std::to_string(i));
    return s;
}

void add_synthetic_objects(schema& s, int n) {
    if (n < 0 || n > max_synthetic_objects)
        throw std::runtime_error("--synthetic-objects: from 0 to " +
                                 std::to_string(max_synthetic_objects));
    if (n == 0)
        return;
    const object_def* t = s.find("Sim_Everything__c");
    if (!t)
        throw std::runtime_error("--synthetic-objects: the schema has no Sim_Everything__c");
    // The template's text has its API version as a marker: any version does here.
    const std::string text = t->describe("60.0");
    // Objects are held by pointer: `t` stays valid while `s` grows.
    for (int i = 1; i <= n; ++i) {
        // An object of --schema's by that name or key prefix would be replaced or shadowed.
        if (s.find(synthetic_name(i)) || s.by_key_prefix(synthetic_key_prefix(i)))
            throw std::runtime_error("--synthetic-objects: " + synthetic_name(i) +
                                     " or key prefix " + synthetic_key_prefix(i) +
                                     " is taken already");
        s.load_text(synthetic_describe(*t, text, i), synthetic_name(i));
    }
}

} // namespace sfbridge::sim
