#include "mappings/ddl.hpp"
#include "test/support/describes.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;

namespace {
mappings::resolved_mapping contact() {
    mappings::mapping m;
    m.object_name = "Contact";
    m.fields.emplace("LastName", mappings::json_value::object{});
    m.fields.emplace("Email", mappings::json_value::object{});
    std::vector<std::string> errors, warnings;
    auto r = mappings::resolve_mapping(m, test::describe_of("Contact"), errors, warnings);
    REQUIRE(r);
    return *r;
}
} // namespace

TEST_CASE("a varchar column narrower than its field is widened, nothing else is touched",
          "[unit][mappings]") {
    const auto m = contact();
    std::map<std::string, int> lengths{{"lastname", 40}, {"email", 80}, {"systemmodstamp", 0}};
    CHECK(mappings::ddl::widen_columns("salesforce", m, lengths) ==
          "ALTER TABLE \"salesforce\".\"contact\" ALTER COLUMN \"lastname\" TYPE varchar(80);\n");
    lengths["lastname"] = 80; // as long as the field
    CHECK(mappings::ddl::widen_columns("salesforce", m, lengths).empty());
    lengths["lastname"] = 255; // wider: left wider
    CHECK(mappings::ddl::widen_columns("salesforce", m, lengths).empty());
    lengths["lastname"] = 0; // not a varchar (made text by hand): left alone
    CHECK(mappings::ddl::widen_columns("salesforce", m, lengths).empty());
}
