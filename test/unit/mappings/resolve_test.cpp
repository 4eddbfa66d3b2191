#include "mappings/describe.hpp"
#include "mappings/mapping_file.hpp"
#include "mappings/resolve.hpp"
#include "test/support/describes.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::mappings;
using sfbridge::test::describe_of;
using sfbridge::test::slurp;

namespace {
mapping make(std::string object, std::vector<std::string> fields,
             access_mode access = access_mode::read_only) {
    mapping m;
    m.object_name = std::move(object);
    m.access = access;
    for (auto& f : fields)
        m.fields.emplace(std::move(f), json_value::object{});
    return m;
}

bool mentions(const std::vector<std::string>& messages, const std::string& a,
              const std::string& b) {
    for (const auto& m : messages)
        if (m.find(a) != std::string::npos && m.find(b) != std::string::npos)
            return true;
    return false;
}
} // namespace

TEST_CASE("a describe parses into the object's capabilities and fields", "[unit][mappings]") {
    const auto* d = describe_of("Account");
    REQUIRE(d);
    CHECK(d->name == "Account");
    CHECK(d->key_prefix == "001");
    CHECK(d->queryable);
    const auto* name = d->field("name");
    REQUIRE(name);
    CHECK(name->info.name == "Name");
    CHECK(name->info.type == "string");
    CHECK(name->info.length == 255);
    const auto* owner = d->field("OwnerId");
    REQUIRE(owner);
    CHECK(owner->relationship_name == "Owner");
    CHECK(owner->reference_to == std::vector<std::string>{"User"});
    CHECK(d->field("BillingCity")->compound_field_name == "BillingAddress");
    CHECK(d->field("NoSuchField") == nullptr);

    std::string error;
    CHECK_FALSE(parse_describe("[]", error));
    CHECK(error.find("object") != std::string::npos);
    CHECK_FALSE(parse_describe(R"({"name":"X"})", error));
    CHECK(error.find("fields") != std::string::npos);
}

TEST_CASE("the real export of 2016 validates against sfsim's describes", "[unit][mappings]") {
    std::vector<std::string> errors;
    auto file = read_mapping_file(
        slurp(std::string(SFBRIDGE_FIXTURES_DIR) + "/mappings/heroku-connect-export-2016.json"),
        errors);
    REQUIRE(file);
    REQUIRE(file->mappings.size() == 3);
    for (const auto& m : file->mappings) {
        std::vector<std::string> warnings;
        auto r = resolve_mapping(m, describe_of(m.object_name), errors, warnings);
        INFO(m.object_name << ": " << (errors.empty() ? "" : errors.front()));
        REQUIRE(r);
        CHECK(r->table == sfbridge::mappings::column_name(m.object_name));
        REQUIRE_FALSE(r->fields.empty());
        CHECK(r->fields.front().column == "sfid");
        CHECK(r->by_column("systemmodstamp"));
        CHECK(r->by_column("isdeleted"));
        CHECK(r->fields.size() == m.fields.size()); // these exports already map the system fields
        CHECK(r->indexes.at(0) == index_spec{"sfid", true});
        CHECK(r->indexes.at(1) == index_spec{"systemmodstamp", false});
    }
}

TEST_CASE("an export naming an object the org does not have fails naming it", "[unit][mappings]") {
    std::vector<std::string> errors;
    auto file = read_mapping_file(slurp(std::string(SFBRIDGE_FIXTURES_DIR) +
                                        "/mappings/heroku-connect-export-with-indexes.json"),
                                  errors);
    REQUIRE(file);
    std::vector<std::string> warnings;
    const auto& m = file->mappings.at(0);
    CHECK_FALSE(resolve_mapping(m, describe_of(m.object_name), errors, warnings));
    CHECK(mentions(errors, "mapping AcceptedEventRelation", "no object"));
}

TEST_CASE("validation errors name the mapping and the field", "[unit][mappings]") {
    std::vector<std::string> errors, warnings;
    auto m = make("Sim_Everything__c", {"Name", "Nope__c", "Base64__c"});
    m.upsert_field = "Text__c";
    m.indexes = std::map<std::string, bool>{{"Missing__c", false}};
    CHECK_FALSE(resolve_mapping(m, describe_of("Sim_Everything__c"), errors, warnings));
    // A field the org lacks is a warning: the mapping goes on without it.
    CHECK(mentions(warnings, "mapping Sim_Everything__c: field Nope__c", "syncing without it"));
    CHECK(mentions(errors, "field Base64__c", "base64"));
    CHECK(mentions(errors, "upsert_field Text__c", "not an External ID"));
    CHECK(mentions(errors, "index on Missing__c", "not mapped"));
}

TEST_CASE("Id SystemModstamp and IsDeleted are always mapped", "[unit][mappings]") {
    std::vector<std::string> errors, warnings;
    auto r =
        resolve_mapping(make("Contact", {"LastName"}), describe_of("Contact"), errors, warnings);
    REQUIRE(r);
    CHECK(r->field_names() ==
          std::vector<std::string>{"Id", "IsDeleted", "LastName", "SystemModstamp"});
    CHECK(r->has_isdeleted);
    CHECK(r->field("lastname")->pg_type == "varchar(80)");
    CHECK(r->field("Id")->pg_type == "varchar(18)");
    CHECK(r->field("SystemModstamp")->pg_type == "timestamp");
}

TEST_CASE("compound fields are flattened into their parts", "[unit][mappings]") {
    std::vector<std::string> errors, warnings;
    auto r = resolve_mapping(make("Sim_Everything__c", {"Location__c", "MailingAddress__c"}),
                             describe_of("Sim_Everything__c"), errors, warnings);
    REQUIRE(r); // MailingAddress__c does not exist on this object: synced without, named
    CHECK(r->is_missing("MailingAddress__c"));
    CHECK(mentions(warnings, "field MailingAddress__c", "syncing without it"));
    errors.clear();
    r = resolve_mapping(make("Sim_Everything__c", {"Location__c"}),
                        describe_of("Sim_Everything__c"), errors, warnings);
    REQUIRE(r);
    CHECK(r->by_column("location__latitude__s"));
    CHECK(r->by_column("location__longitude__s"));
    CHECK_FALSE(r->by_column("location__c"));
    CHECK(r->by_column("location__latitude__s")->pg_type == "double precision");

    r = resolve_mapping(make("Account", {"BillingAddress"}), describe_of("Account"), errors,
                        warnings);
    REQUIRE(r);
    for (const char* part :
         {"billingstreet", "billingcity", "billingstate", "billingpostalcode", "billingcountry",
          "billinglatitude", "billinglongitude", "billinggeocodeaccuracy"})
        CHECK(r->by_column(part));
    CHECK_FALSE(r->by_column("billingaddress"));
}

TEST_CASE("read-write mappings know which fields they may write", "[unit][mappings]") {
    std::vector<std::string> errors, warnings;
    auto m = make("Sim_Everything__c", {"Name", "External_Id__c", "AutoNumber__c", "CreatedDate"},
                  access_mode::read_write);
    m.upsert_field = "External_Id__c";
    m.indexes = std::map<std::string, bool>{{"Name", false}};
    auto r = resolve_mapping(m, describe_of("Sim_Everything__c"), errors, warnings);
    INFO((errors.empty() ? "" : errors.front()));
    REQUIRE(r);
    CHECK(r->field("Name")->writable_on_create);
    CHECK(r->field("Name")->writable_on_update);
    CHECK_FALSE(r->field("Id")->writable_on_update);
    CHECK_FALSE(r->field("CreatedDate")->writable_on_create); // system field
    CHECK_FALSE(r->field("AutoNumber__c")->writable_on_create);
    CHECK(mentions(warnings, "field AutoNumber__c", "read-only in this mapping"));
    CHECK(r->upsert_field == "External_Id__c");
    CHECK(r->indexes == std::vector<index_spec>{{"sfid", true},
                                                {"systemmodstamp", false},
                                                {"name", false},
                                                {"external_id__c", true}});

    // The same fields in a read-only mapping: nothing to warn about.
    warnings.clear();
    m.access = access_mode::read_only;
    REQUIRE(resolve_mapping(m, describe_of("Sim_Everything__c"), errors, warnings));
    CHECK(warnings.empty());
}

TEST_CASE("a <relationship>__r__<external id> field becomes a write-only reference column",
          "[unit][mappings]") {
    std::vector<std::string> errors, warnings;
    auto r = resolve_mapping(
        make("Contact", {"Id", "LastName", "Account__r__External_Id__c"}, access_mode::read_write),
        describe_of("Contact"), errors, warnings);
    INFO((errors.empty() ? std::string() : errors[0]));
    REQUIRE(r);
    REQUIRE(r->references.size() == 1);
    const auto& ref = r->references[0];
    CHECK(ref.column == "account__r__external_id__c");
    CHECK(ref.relationship == "Account");
    CHECK(ref.lookup_field == "AccountId");
    CHECK(ref.parent_object == "Account");
    CHECK(ref.external_field == "External_Id__c");
    CHECK(ref.writable_on_create);
    CHECK(r->reference_by_column("account__r__external_id__c") == &ref);
    // Never queried from Salesforce, never a field of the mapping.
    CHECK(r->by_column("account__r__external_id__c") == nullptr);
    for (const auto& name : r->field_names())
        CHECK(name.find("__r__") == std::string::npos);

    // A relationship the object does not have is named in the warning.
    errors.clear();
    warnings.clear();
    CHECK(resolve_mapping(make("Contact", {"Id", "Nope__r__External_Id__c"}),
                          describe_of("Contact"), errors, warnings));
    CHECK(mentions(warnings, "Nope__r__External_Id__c", "relationship"));
}

TEST_CASE("a mapping may stream its Change Data Capture channel", "[unit][mappings]") {
    CHECK(change_event_channel("Account") == "/data/AccountChangeEvent");
    CHECK(change_event_channel("Sim_Everything__c") == "/data/Sim_Everything__ChangeEvent");
    std::vector<std::string> errors, warnings;
    auto m = make("Contact", {"Id", "LastName"});
    CHECK_FALSE(
        resolve_mapping(m, describe_of("Contact"), errors, warnings)->options.change_data_capture);
    m.extra_config["sfbridge_stream"] = json_value(std::string("cdc"));
    CHECK(
        resolve_mapping(m, describe_of("Contact"), errors, warnings)->options.change_data_capture);
    m.extra_config["sfbridge_stream"] = json_value(std::string("carrier pigeon"));
    CHECK_FALSE(resolve_mapping(m, describe_of("Contact"), errors, warnings));
    CHECK(mentions(errors, "mapping Contact", "sfbridge_stream"));
}

TEST_CASE("fields named read-only are synced in and never written back", "[unit][mappings]") {
    std::vector<std::string> errors, warnings;
    auto m = make("Contact", {"Id", "LastName", "Email", "Phone"}, access_mode::read_write);
    m.extra_config["sfbridge_read_only_fields"] = json_value(json_value::array{"email"});
    m.fields["Phone"] = json_value(json_value::object{{"sfbridge_write", json_value(false)}});
    auto r = resolve_mapping(m, describe_of("Contact"), errors, warnings);
    INFO((errors.empty() ? std::string() : errors[0]));
    REQUIRE(r);
    CHECK(r->field("LastName")->writable_on_update);
    CHECK_FALSE(r->field("LastName")->app_read_only);
    for (const char* name : {"Email", "Phone"}) {
        INFO(name);
        CHECK(r->field(name)->app_read_only);
        CHECK_FALSE(r->field(name)->writable_on_create);
        CHECK_FALSE(r->field(name)->writable_on_update);
    }
    CHECK(r->options.read_only_fields.size() == 2);

    // Kept through an export and a new import, as Heroku Connect keeps keys it does not know.
    mapping_file f;
    f.mappings.push_back(m);
    std::vector<std::string> read_errors;
    auto again = read_mapping_file(write_mapping_file(f), read_errors);
    REQUIRE(again);
    CHECK(again->mappings[0] == m);

    // A field that is not mapped, a list that is not one, a misspelt option: named errors.
    errors.clear();
    m.extra_config["sfbridge_read_only_fields"] = json_value(json_value::array{"Title"});
    CHECK_FALSE(resolve_mapping(m, describe_of("Contact"), errors, warnings));
    CHECK(mentions(errors, "mapping Contact", "Title is not a mapped field"));
    errors.clear();
    m.extra_config["sfbridge_read_only_fields"] = json_value(std::string("Email"));
    CHECK_FALSE(resolve_mapping(m, describe_of("Contact"), errors, warnings));
    CHECK(mentions(errors, "sfbridge_read_only_fields", "list of field names"));
    errors.clear();
    m.extra_config.erase("sfbridge_read_only_fields");
    m.fields["Phone"] = json_value(json_value::object{{"sfbridge_write", json_value("no")}});
    CHECK_FALSE(resolve_mapping(m, describe_of("Contact"), errors, warnings));
    CHECK(mentions(errors, "field Phone", "sfbridge_write must be true or false"));
    errors.clear();
    m.fields["Phone"] = json_value(json_value::object{});
    m.extra_config["sfbridge_readonly"] = json_value(true);
    CHECK_FALSE(resolve_mapping(m, describe_of("Contact"), errors, warnings));
    CHECK(mentions(errors, "mapping Contact", "unknown option sfbridge_readonly"));
}

TEST_CASE("a mapping may keep deleted records' rows", "[unit][mappings]") {
    std::vector<std::string> errors, warnings;
    auto m = make("Contact", {"Id", "LastName"});
    CHECK_FALSE(resolve_mapping(m, describe_of("Contact"), errors, warnings)->soft_deletes());
    m.extra_config["sfbridge_deletes"] = json_value("soft");
    CHECK(resolve_mapping(m, describe_of("Contact"), errors, warnings)->soft_deletes());
    m.extra_config["sfbridge_deletes"] = json_value("hard");
    CHECK_FALSE(resolve_mapping(m, describe_of("Contact"), errors, warnings)->soft_deletes());
    m.extra_config["sfbridge_deletes"] = json_value("sometimes");
    CHECK_FALSE(resolve_mapping(m, describe_of("Contact"), errors, warnings));
    CHECK(mentions(errors, "mapping Contact", "sfbridge_deletes must be"));
}
