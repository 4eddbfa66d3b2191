#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

namespace sfbridge::test {

// A captured Salesforce answer from test/fixtures/salesforce/ (see SOURCES.md there).
inline std::string reference_fixture(const std::string& name) {
    std::ifstream in(std::string(SFBRIDGE_FIXTURES_DIR) + "/salesforce/" + name);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace sfbridge::test
