#include "sim/org.hpp"
#include "sim/synthetic.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace sfbridge::sim;

TEST_CASE("synthetic objects are Sim_Everything__c under their own names and key prefixes",
          "[unit][sim]") {
    schema s;
    s.load_directory(SFSIM_SCHEMA_DIR);
    add_synthetic_objects(s, 70); // past 62: the prefix's middle digit moves too
    const object_def& everything = *s.find("Sim_Everything__c");
    std::set<std::string> prefixes;
    for (const auto& o : s.objects())
        prefixes.insert(o->key_prefix);
    CHECK(prefixes.size() == s.objects().size()); // none shared, with the shipped ones either
    for (int i : {1, 7, 62, 63, 70}) {
        INFO(i);
        const object_def* o = s.find("sim_object_" + std::to_string(i) + "__c");
        REQUIRE(o);
        CHECK(o->name == synthetic_name(i));
        CHECK(o->key_prefix == synthetic_key_prefix(i));
        CHECK(s.by_key_prefix(o->key_prefix) == o);
        CHECK(o->label == "Sim Object " + std::to_string(i));
        CHECK(o->label_plural == "Sim Objects " + std::to_string(i));
        CHECK(o->custom);
        CHECK(o->fields.size() == everything.fields.size());
        CHECK(o->has_field("External_Id__c"));
        const std::string d = o->describe("60.0");
        CHECK(d.find("/services/data/v60.0/sobjects/" + synthetic_name(i) + "/describe") !=
              std::string::npos);
        CHECK(d.find("Sim_Everything") == std::string::npos);
        CHECK(d.find("/" + everything.key_prefix + "/") == std::string::npos);
    }
    CHECK(synthetic_key_prefix(1) == "b01");
    CHECK(synthetic_key_prefix(62) == "b10");
    CHECK_FALSE(s.find("Sim_Object_71__c"));

    // Records get ids of their own object.
    org data(s, 1);
    sf_error err;
    const object_def& seven = *s.find("Sim_Object_7__c");
    const std::string id =
        data.create(seven, {{seven.index_of("Name"), value(std::string("Seven"))}}, {}, err);
    CHECK(err.message.empty());
    CHECK(id.rfind(synthetic_key_prefix(7), 0) == 0);
}

TEST_CASE("synthetic objects out of range or without their template are refused", "[unit][sim]") {
    schema s;
    s.load_directory(SFSIM_SCHEMA_DIR);
    CHECK_THROWS_WITH(add_synthetic_objects(s, max_synthetic_objects + 1),
                      Catch::Contains("from 0 to 3000"));
    CHECK_THROWS(add_synthetic_objects(s, -1));
    add_synthetic_objects(s, 0);
    CHECK_FALSE(s.find("Sim_Object_1__c"));
    schema bare;
    CHECK_THROWS_WITH(add_synthetic_objects(bare, 1), Catch::Contains("Sim_Everything__c"));
    // Added twice (or over an object of --schema's): refused, not replaced.
    add_synthetic_objects(s, 2);
    CHECK_THROWS_WITH(add_synthetic_objects(s, 2), Catch::Contains("taken already"));
}
