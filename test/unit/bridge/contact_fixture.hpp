#pragma once

#include "core/value_kind.hpp"
#include "mappings/resolve.hpp"
#include "salesforce/records.hpp"
#include "test/support/describes.hpp"

#include <catch2/catch.hpp>

#include <string>

// A Contact mapping (Id, LastName and the system fields) and its records, for the unit tests
// of the batches.
namespace sfbridge::test {

inline mappings::resolved_mapping contact() {
    mappings::mapping m;
    m.object_name = "Contact";
    m.fields.emplace("LastName", mappings::json_value::object{});
    std::vector<std::string> errors, warnings;
    auto r = mappings::resolve_mapping(m, test::describe_of("Contact"), errors, warnings);
    REQUIRE(r);
    return *r;
}

inline salesforce::flat_record record(const std::string& id, const std::string& name,
                                      const std::string& stamp) {
    salesforce::flat_record r;
    r.fields.push_back({"Id", sf_value_kind::json_string, id});
    r.fields.push_back({"LastName", sf_value_kind::json_string, name});
    r.fields.push_back({"SystemModstamp", sf_value_kind::json_string, stamp});
    r.fields.push_back({"IsDeleted", sf_value_kind::json_bool, "false"});
    return r;
}

} // namespace sfbridge::test
