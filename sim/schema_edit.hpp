#pragma once

#include "sim/schema.hpp"

#include <optional>
#include <string>
#include <string_view>

// Changes to an object's fields while sfsim runs, as an admin makes them in Setup, so that a
// running client meets them (POST and DELETE /__sim/schema/<Object>/fields): a field added, a
// field changed (length, precision, type, formula), a field removed (deleted, or hidden from
// the integration user by field-level security). The describe served from then on says so.
namespace sfbridge::sim {

struct field_change {
    int index = -1;
    bool added = false;
    std::optional<field_type> old_type; // set when the type changed
    bool computed = false;              // a formula or roll-up: its values need computing
};

// Adds or changes the field `json` describes: a describe field object ("name" required; for an
// existing field only the keys given change), plus sfsim's "formula": "<expression>" (see
// sim/formula.hpp) and "rollup": {"child": "Contact", "via": "AccountId", "op": "COUNT" or
// "SUM", "field": "Amount"}. Both make the field calculated and read-only. A hidden field given
// again comes back. False with `error` naming what was wrong; nothing changes then (but for a
// describe loaded from a file that cannot be read again, which loading would have refused).
bool edit_field(const schema& s, object_def& o, std::string_view json, field_change& out,
                std::string& error);

// Hides a field (its values stay, unreachable). False when the object has no such field, or it
// is one Salesforce would not let go (Id and the system stamps).
bool hide_field(object_def& o, std::string_view name, std::string& error);

} // namespace sfbridge::sim
