#pragma once

#include "bridge/cli.hpp"
#include "bridge/settings.hpp"

// `sfbridge doctor`: checks an org's and a database's set-up before a first run, or when
// something is wrong, and prints one line per check (OK, WARN or FAIL, with what to do). Reads
// only: nothing is created, changed or subscribed. The judgements are in bridge/doctor_checks.
namespace sfbridge::bridge {

// 0 when no check FAILs, 1 when one does (2: the command could not run, e.g. no mapping file).
int cmd_doctor(const settings& s, const cli& c);

} // namespace sfbridge::bridge
