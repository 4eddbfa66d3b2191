#pragma once

#include "bridge/cli.hpp"
#include "bridge/settings.hpp"

#include <string>

// The commands that only read or change sfbridge's tables: `status`, `errors`, `retry` and
// `reload`. Each prints its answer and returns the exit code (2 on failure, with one message).
namespace sfbridge::bridge {

int run_admin_command(const settings& s, const cli& c, const std::string& what);

} // namespace sfbridge::bridge
