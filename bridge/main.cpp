// sfbridge: Salesforce <-> Postgres sync, a self-hosted replacement for Heroku Connect.
#include "bridge/admin.hpp"
#include "bridge/cli.hpp"
#include "bridge/commands.hpp"
#include "bridge/doctor.hpp"
#include "bridge/restart.hpp"
#include "bridge/settings.hpp"
#include "core/log.hpp"

#include <iostream>
#include <stdexcept>

using namespace sfbridge;

namespace {

void set_up_logging(const bridge::settings& s, const bridge::cli& c) {
    const std::string fmt =
        bridge::option_or_setting(c, "log-format", s, "SFBRIDGE_LOG_FORMAT", "logfmt");
    if (fmt != "logfmt" && fmt != "json")
        throw std::runtime_error("--log-format must be logfmt or json");
    log::set_format(fmt == "json" ? log::format::json : log::format::logfmt);
    log::level lvl = log::level::info;
    if (!log::parse_level(
            bridge::option_or_setting(c, "log-level", s, "SFBRIDGE_LOG_LEVEL", "info"), lvl))
        throw std::runtime_error("--log-level must be debug, info, warn or error");
    log::set_min_level(lvl);
}

} // namespace

int main(int argc, char** argv) {
    bridge::remember_arguments(argc, argv);
    try {
        const auto c = bridge::parse_args(argc, argv);
        if (c.has("help") || c.positional.empty()) {
            std::cout << bridge::usage;
            return c.positional.empty() && !c.has("help") ? 2 : 0;
        }
        bridge::settings s;
        if (c.has("config"))
            s.load_file(c.options.at("config"));
        s.load_environment();
        set_up_logging(s, c);

        const std::string& cmd = c.positional[0];
        if (cmd == "run")
            return bridge::cmd_run(s, c, false);
        if (cmd == "mappings")
            return bridge::cmd_mappings(s, c);
        if (cmd == "reload" || cmd == "status" || cmd == "health" || cmd == "errors" ||
            cmd == "retry")
            return bridge::run_admin_command(s, c, cmd);
        if (cmd == "doctor")
            return bridge::cmd_doctor(s, c);
        if (cmd == "tail")
            return bridge::cmd_tail(s, c);
        throw std::runtime_error("unknown command " + cmd + " (see sfbridge --help)");
    } catch (const std::exception& e) {
        log::error("sfbridge", e.what());
        return 2;
    }
}
