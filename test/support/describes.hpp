#pragma once

#include "mappings/describe.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

// The describes sfsim serves (real ones from real orgs, see sim/schema/SOURCES.md), parsed by
// the product's own describe parser, for tests of mappings/ that need no running simulator.
namespace sfbridge::test {

inline std::string slurp(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline const std::map<std::string, mappings::object_describe>& describes() {
    static const auto all = [] {
        std::map<std::string, mappings::object_describe> m;
        for (const char* name :
             {"Account", "Contact", "Lead", "Opportunity", "Case", "Sim_Everything__c"}) {
            std::string error;
            auto d = mappings::parse_describe(
                slurp(std::string(SFSIM_SCHEMA_DIR) + "/" + name + ".json"), error);
            INFO(name << ": " << error);
            REQUIRE(d);
            m.emplace(name, std::move(*d));
        }
        return m;
    }();
    return all;
}

inline const mappings::object_describe* describe_of(const std::string& name) {
    auto it = describes().find(name);
    return it == describes().end() ? nullptr : &it->second;
}

} // namespace sfbridge::test
