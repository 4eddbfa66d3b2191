#include "sim/ids.hpp"
#include "sim/org.hpp"
#include "test/support/sim_schema.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::sim;

namespace {
const schema& objects() {
    return sfbridge::test::sim_objects();
}
std::vector<field_value> fields(const object_def& o,
                                std::initializer_list<std::pair<const char*, value>> in) {
    std::vector<field_value> out;
    for (const auto& [name, v] : in)
        out.push_back({o.index_of(name), v});
    return out;
}
} // namespace

TEST_CASE("the shipped schema has the objects sync tools need", "[unit][sim]") {
    for (const char* name :
         {"Account", "Contact", "Lead", "Opportunity", "Case", "PushTopic", "Sim_Everything__c"}) {
        INFO(name);
        const object_def* o = objects().find(name);
        REQUIRE(o);
        CHECK(o->key_prefix.size() == 3);
        CHECK(o->has_field("SystemModstamp"));
    }
    const object_def& everything = *objects().find("sim_everything__c");
    for (auto t : {field_type::string,        field_type::boolean,
                   field_type::double_,       field_type::integer,
                   field_type::currency,      field_type::percent,
                   field_type::date,          field_type::datetime,
                   field_type::time,          field_type::picklist,
                   field_type::multipicklist, field_type::email,
                   field_type::phone,         field_type::url,
                   field_type::textarea,      field_type::encryptedstring,
                   field_type::reference,     field_type::location,
                   field_type::base64,        field_type::id})
        CHECK(std::any_of(everything.fields.begin(), everything.fields.end(),
                          [t](const field_def& f) { return f.type == t; }));
    const auto d = objects().find("Contact")->describe("60.0");
    CHECK(d.find("/services/data/v60.0/sobjects/Contact/describe") != std::string::npos);
    CHECK(d.find("vxx.0") == std::string::npos);
}

TEST_CASE("creates are validated as Salesforce does", "[unit][sim]") {
    org data(objects(), 1);
    const object_def& c = *objects().find("Contact");
    sf_error err;
    CHECK(data.create(c, fields(c, {{"FirstName", std::string("Ann")}}), {}, err).empty());
    CHECK(err.code == "REQUIRED_FIELD_MISSING");
    CHECK(err.message == "Required fields are missing: [LastName]");
    CHECK(err.fields == std::vector<std::string>{"LastName"});

    CHECK(data.create(c, fields(c, {{"LastName", std::string(81, 'x')}}), {}, err).empty());
    CHECK(err.code == "STRING_TOO_LONG");
    CHECK_THAT(err.message, Catch::EndsWith("(max length=80)"));

    CHECK(data.create(c, fields(c, {{"LastName", std::string("x")}, {"Email", std::string("no")}}),
                      {}, err)
              .empty());
    CHECK(err.code == "INVALID_EMAIL_ADDRESS");

    CHECK(data.create(c,
                      fields(c, {{"LastName", std::string("x")},
                                 {"SystemModstamp", std::string("2024-01-01T00:00:00.000Z")}}),
                      {}, err)
              .empty());
    CHECK(err.code == "INVALID_FIELD_FOR_INSERT_UPDATE");

    CHECK(data.create(c,
                      fields(c, {{"LastName", std::string("x")},
                                 {"AccountId", std::string("001D000000IRFmaIAH")}}),
                      {}, err)
              .empty());
    CHECK(err.code == "INVALID_CROSS_REFERENCE_KEY");

    const std::string id = data.create(
        c, fields(c, {{"FirstName", std::string("Ann")}, {"LastName", std::string("Lee")}}), {},
        err);
    REQUIRE(ids::valid(id));
    CHECK(id.substr(0, 3) == "003");
    const record* r = data.get(c, id);
    REQUIRE(r);
    CHECK(r->get(c.index_of("Name")) == value(std::string("Ann Lee")));
    CHECK(r->get(c.index_of("IsDeleted")) == value(false));
    CHECK(r->get(c.index_of("OwnerId")) == value(data.user_id()));
    const auto& stamp = std::get<std::string>(r->get(c.index_of("SystemModstamp")));
    CHECK(stamp.size() == 24);
    CHECK(stamp == std::get<std::string>(r->get(c.index_of("CreatedDate"))));
}

TEST_CASE("updates bump the stamps and report the changed fields", "[unit][sim]") {
    org data(objects(), 2);
    const object_def& c = *objects().find("Contact");
    std::vector<change> seen;
    data.add_listener([&](const change& ch) {
        change copy = ch;
        copy.rec = nullptr;
        seen.push_back(copy);
    });
    sf_error err;
    const auto id = data.create(c, fields(c, {{"LastName", std::string("Lee")}}), {}, err);
    REQUIRE_FALSE(id.empty());
    const std::string before =
        std::get<std::string>(data.get(c, id)->get(c.index_of("SystemModstamp")));
    REQUIRE(data.update(
        c, id, fields(c, {{"Email", std::string("a@b.c")}, {"LastName", std::string("Lee")}}), {},
        err));
    const std::string after =
        std::get<std::string>(data.get(c, id)->get(c.index_of("SystemModstamp")));
    CHECK(after >= before);
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].type == change_type::created);
    CHECK(seen[1].type == change_type::updated);
    const auto& changed = seen[1].changed_fields;
    CHECK(std::find(changed.begin(), changed.end(), c.index_of("Email")) != changed.end());
    CHECK(std::find(changed.begin(), changed.end(), c.index_of("LastName")) == changed.end());
    CHECK(std::find(changed.begin(), changed.end(), c.index_of("SystemModstamp")) != changed.end());

    CHECK_FALSE(data.update(c, "003D000000IRFmaIAH", {}, {}, err));
    CHECK(err.code == "INVALID_CROSS_REFERENCE_KEY");
    CHECK_FALSE(data.update(c, "bad", {}, {}, err));
    CHECK(err.code == "MALFORMED_ID");
}

TEST_CASE("deletes go to the recycle bin and come back", "[unit][sim]") {
    org data(objects(), 3);
    const object_def& a = *objects().find("Account");
    sf_error err;
    const auto id = data.create(a, fields(a, {{"Name", std::string("Acme")}}), {}, err);
    REQUIRE(data.remove(a, id, {}, err));
    CHECK(data.get(a, id)->deleted);
    CHECK(data.get(a, id)->get(a.index_of("IsDeleted")) == value(true));
    CHECK(data.deletions(a).size() == 1);
    CHECK_FALSE(data.remove(a, id, {}, err));
    CHECK(err.code == "ENTITY_IS_DELETED");
    CHECK_FALSE(data.update(a, id, {}, {}, err));
    CHECK(err.code == "ENTITY_IS_DELETED");
    REQUIRE(data.undelete(a, id, {}, err));
    CHECK_FALSE(data.get(a, id)->deleted);
    CHECK(data.deletions(a).empty());
    CHECK_FALSE(data.undelete(a, id, {}, err));
    CHECK(err.code == "UNDELETE_FAILED");
}

TEST_CASE("unique external ids and validation rules reject records", "[unit][sim]") {
    org data(objects(), 4);
    const object_def& e = *objects().find("Sim_Everything__c");
    sf_error err;
    const auto first =
        data.create(e, fields(e, {{"External_Id__c", std::string("EXT-1")}}), {}, err);
    REQUIRE_FALSE(first.empty());
    CHECK(data.create(e, fields(e, {{"External_Id__c", std::string("ext-1")}}), {}, err).empty());
    CHECK(err.code == "DUPLICATE_VALUE");
    CHECK_THAT(err.message, Catch::Contains(first));
    CHECK(data.find_by_field(e, e.index_of("External_Id__c"), "EXT-1").size() == 1);

    data.validation_rules().push_back(
        {"Sim_Everything__c", "Name", "reject me", "Name may not be 'reject me'"});
    CHECK(data.create(e, fields(e, {{"Name", std::string("Reject Me")}}), {}, err).empty());
    CHECK(err.code == "FIELD_CUSTOM_VALIDATION_EXCEPTION");
    CHECK(err.message == "Name may not be 'reject me'");

    data.set_lock_check([&](std::string_view id) { return id == first; });
    CHECK_FALSE(data.update(e, first, {}, {}, err));
    CHECK(err.code == "UNABLE_TO_LOCK_ROW");
}
