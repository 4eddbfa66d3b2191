#pragma once

#include "bridge/engine_config.hpp"
#include "bridge/settings.hpp"
#include "mappings/mapping_file.hpp"

#include <map>
#include <string>
#include <vector>

// The command line: words and --options, and how they combine with the settings (an option
// given on the command line wins over the environment, which wins over --config). Pure but
// for load_mappings, which reads the file named by --mappings. Errors throw
// std::runtime_error with a message naming the option.
namespace sfbridge::bridge {

extern const char* const usage;

struct cli {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;

    [[nodiscard]] bool has(const std::string& name) const { return options.count(name) > 0; }
};

// -h and --help set the option "help"; every other --name takes the next word as its value.
[[nodiscard]] cli parse_args(int argc, const char* const* argv);

// --name as a positive number, or `fallback` when it is not given.
[[nodiscard]] long number_option(const cli& c, const std::string& name, long fallback);
// --option, else the setting, else the fallback.
[[nodiscard]] std::string option_or_setting(const cli& c, const std::string& option,
                                            const settings& s, const std::string& key,
                                            const std::string& fallback);

// The engine's configuration from the settings and options, all but the mappings.
[[nodiscard]] engine_config engine_options(const settings& s, const cli& c);
// The mapping file named by --mappings, read and checked.
[[nodiscard]] mappings::mapping_file load_mappings(const cli& c);

} // namespace sfbridge::bridge
