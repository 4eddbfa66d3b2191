#pragma once

#include "bridge/cli.hpp"
#include "bridge/settings.hpp"

// The commands that talk to Salesforce: `run`, `mappings validate|import|export` and `tail`.
// Each returns the process's exit code: 0, or 2 with one message on a misconfiguration.
namespace sfbridge::bridge {

int cmd_run(const settings& s, const cli& c, bool import_only);
int cmd_mappings(const settings& s, const cli& c);
// `mappings add OBJECT` and `mappings plan` (bridge/mappings_commands.cpp).
int cmd_mappings_add(const settings& s, const cli& c);
int cmd_mappings_plan(const settings& s, const cli& c);
int cmd_tail(const settings& s, const cli& c);

} // namespace sfbridge::bridge
