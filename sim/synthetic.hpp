#pragma once

#include "sim/schema.hpp"

#include <string>
#include <string_view>

// Custom objects made up for scale tests (`--synthetic-objects N`): Sim_Object_<i>__c for i in
// 1..N, each Sim_Everything__c's describe (a field of every type Salesforce has, taken from a
// real org) under its own API name, label and key prefix, so that mappings, generators,
// streaming and Bulk treat them like any other object, without a describe file each.
namespace sfbridge::sim {

// At most this many: their key prefixes are "b" and two base-62 digits.
inline constexpr int max_synthetic_objects = 3000;

[[nodiscard]] std::string synthetic_name(int i);
[[nodiscard]] std::string synthetic_key_prefix(int i);
// Synthetic object i's describe, made from the template object's (Sim_Everything__c's) and
// its describe text.
[[nodiscard]] std::string synthetic_describe(const object_def& t, std::string_view text, int i);
// Adds objects 1..n to `s`, from its Sim_Everything__c. Throws std::runtime_error when n is out
// of range or the template is missing (a start-up error).
void add_synthetic_objects(schema& s, int n);

} // namespace sfbridge::sim
