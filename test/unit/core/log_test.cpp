#include "core/log.hpp"

#include <catch2/catch.hpp>

#include <vector>

namespace slog = sfbridge::log;

TEST_CASE("logfmt quotes values that need it", "[unit][log]") {
    const auto line = slog::format_line(slog::format::logfmt, slog::level::warn,
                                        "2026-01-01T00:00:00.000Z", "pg", "server notice",
                                        {{"message", "a \"quoted\" value"}, {"n", 3}, {"e", ""}});
    CHECK(line == "ts=2026-01-01T00:00:00.000Z level=warn component=pg msg=\"server notice\" "
                  "message=\"a \\\"quoted\\\" value\" n=3 e=\"\"");
}

TEST_CASE("JSON lines escape control characters", "[unit][log]") {
    const auto line = slog::format_line(slog::format::json, slog::level::info, "t", "c", "m\n",
                                        {{"k", "tab\there"}});
    CHECK(line == R"({"ts":"t","level":"info","component":"c","msg":"m\n","k":"tab\there"})");
}

TEST_CASE("levels below the minimum are dropped", "[unit][log]") {
    std::vector<std::string> lines;
    slog::set_sink([&](std::string_view l) { lines.emplace_back(l); });
    slog::set_min_level(slog::level::warn);
    slog::info("x", "dropped");
    slog::warn("x", "kept");
    slog::error("x", "kept too");
    slog::set_min_level(slog::level::info);
    slog::set_sink({});
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("msg=kept") != std::string::npos);

    slog::level l{};
    CHECK(slog::parse_level("debug", l));
    CHECK(l == slog::level::debug);
    CHECK_FALSE(slog::parse_level("verbose", l));
}
