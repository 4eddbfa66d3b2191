#include "sim/soql.hpp"
#include "test/support/sim_schema.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::sim;

namespace {
const schema& objects() {
    return sfbridge::test::sim_objects();
}

soql::query parse_ok(std::string_view text) {
    soql::query q;
    soql::error err;
    INFO(text);
    const bool ok = soql::parse(text, objects(), q, err);
    INFO(err.message);
    REQUIRE(ok);
    return q;
}

soql::error parse_fail(std::string_view text, bool push_topic = false) {
    soql::query q;
    soql::error err;
    INFO(text);
    REQUIRE_FALSE(soql::parse(text, objects(), q, err, push_topic));
    return err;
}

record make(const object_def& o, std::initializer_list<std::pair<const char*, value>> fields) {
    record r;
    for (const auto& [name, v] : fields) {
        const int i = o.index_of(name);
        REQUIRE(i >= 0);
        r.set(i, v);
    }
    return r;
}
} // namespace

TEST_CASE("SOQL select lists resolve fields case-insensitively", "[unit][sim][soql]") {
    auto q = parse_ok("select id, LASTNAME, Email, lastname FROM contact");
    REQUIRE(q.object->name == "Contact");
    REQUIRE(q.fields.size() == 3); // the repeated field is listed once
    CHECK(q.object->fields[static_cast<std::size_t>(q.fields[1])].name == "LastName");
    auto c = parse_ok("SELECT COUNT() FROM Account");
    CHECK(c.count_only);
    auto o = parse_ok("SELECT Contact.LastName FROM Contact");
    CHECK_FALSE(o.has_relationship);
}

TEST_CASE("SOQL errors carry Salesforce's codes and positions", "[unit][sim][soql]") {
    auto e = parse_fail("SELECT Id FRM Account");
    CHECK(e.code == "MALFORMED_QUERY");
    CHECK(e.message == "\nSELECT Id FRM Account\n          ^\nERROR at Row:1:Column:11\n"
                       "unexpected token: 'FRM'");
    e = parse_fail("SELECT Id, Foo__c FROM Account");
    CHECK(e.code == "INVALID_FIELD");
    CHECK_THAT(e.message, Catch::StartsWith("\nSELECT Id, Foo__c FROM Account\n           ^\n"
                                            "ERROR at Row:1:Column:12\nNo such column 'Foo__c' "
                                            "on entity 'Account'."));
    e = parse_fail("SELECT Id FROM Nope__c");
    CHECK(e.code == "INVALID_TYPE");
    CHECK_THAT(e.message, Catch::Contains("sObject type 'Nope__c' is not supported."));
    e = parse_fail("SELECT Id FROM Account WHERE");
    CHECK(e.code == "MALFORMED_QUERY");
    CHECK_THAT(e.message, Catch::Contains("unexpected token: '<EOF>'"));
    e = parse_fail("SELECT Id\nFROM Account\nWHERE Name = 'x' AND AND");
    CHECK_THAT(e.message, Catch::Contains("ERROR at Row:3:Column:22"));
    e = parse_fail("SELECT Id FROM Account WHERE Name = 'unterminated");
    CHECK(e.code == "MALFORMED_QUERY");
    e = parse_fail("SELECT Id FROM Account WHERE CreatedDate > '2024-01-01T00:00:00Z'");
    CHECK(e.code == "INVALID_FIELD");
    CHECK_THAT(e.message, Catch::Contains("must be of type dateTime and should not be enclosed "
                                          "in quotes"));
    e = parse_fail("SELECT Id FROM Account WHERE Name = 5");
    CHECK_THAT(e.message, Catch::Contains("must be of type string and should be enclosed"));
    // SOQL escapes quotes with a backslash only; SQL's doubled quote is a syntax error.
    e = parse_fail("SELECT Id FROM Contact WHERE LastName = 'O''Neil'");
    CHECK(e.code == "MALFORMED_QUERY");
    e = parse_fail("SELECT Id FROM Account LIMIT -1");
    CHECK(e.code == "MALFORMED_QUERY");
}

TEST_CASE("SOQL WHERE evaluates comparisons, IN, LIKE, null and logic", "[unit][sim][soql]") {
    const object_def& c = *objects().find("Contact");
    const record ann = make(c, {{"Id", std::string("003D000000IRFmaIAH")},
                                {"LastName", std::string("O'Neil")},
                                {"Email", std::string("ann@example.com")},
                                {"SystemModstamp", std::string("2024-03-01T10:00:00.000Z")},
                                {"Birthdate", std::string("1990-02-28")},
                                {"IsEmailBounced", true}});
    auto check = [&](std::string_view where, bool expected) {
        auto q = parse_ok("SELECT Id FROM Contact WHERE " + std::string(where));
        INFO(where);
        CHECK(soql::matches(q, ann) == expected);
    };
    check("LastName = 'o\\'neil'", true); // case-insensitive, escaped quote
    check("LastName != 'Lee'", true);
    check("Email LIKE 'ANN@%'", true);
    check("Email LIKE '%@example._om'", true);
    check("Email LIKE 'bob%'", false);
    check("FirstName = null", true);
    check("FirstName != null", false);
    check("LastName IN ('x', 'o\\'neil')", true);
    check("LastName NOT IN ('x', 'o\\'neil')", false);
    check("SystemModstamp > 2024-03-01T09:59:59Z", true);
    check("SystemModstamp > 2024-03-01T11:00:00+01:00", false); // the same instant
    check("SystemModstamp >= 2024-03-01T11:00:00+01:00", true);
    check("Birthdate < 1990-03-01", true);
    check("IsEmailBounced = true AND (LastName = 'x' OR Email != null)", true);
    check("NOT IsEmailBounced = true", false);
    check("Id = '003D000000IRFma'", true); // 15- and 18-character ids are the same record
}

TEST_CASE("SOQL ORDER BY sorts with nulls first or last", "[unit][sim][soql]") {
    const object_def& c = *objects().find("Contact");
    const record a = make(c, {{"LastName", std::string("b")}});
    const record b = make(c, {{"LastName", std::string("A")}});
    const record n = make(c, {});
    std::vector<const record*> rows{&a, &n, &b};
    auto q = parse_ok("SELECT Id FROM Contact ORDER BY LastName");
    soql::sort(q, rows);
    CHECK(rows == std::vector<const record*>{&n, &b, &a});
    q = parse_ok("SELECT Id FROM Contact ORDER BY LastName DESC");
    soql::sort(q, rows);
    CHECK(rows == std::vector<const record*>{&a, &b, &n});
    q = parse_ok("SELECT Id FROM Contact ORDER BY LastName ASC NULLS LAST LIMIT 10 OFFSET 1");
    soql::sort(q, rows);
    CHECK(rows == std::vector<const record*>{&b, &a, &n});
    CHECK(q.limit == 10);
    CHECK(q.offset == 1);
}

TEST_CASE("PushTopic-only parsing records the constructs it will refuse", "[unit][sim][soql]") {
    soql::query q;
    soql::error err;
    REQUIRE(soql::parse("SELECT Id, Account.Name FROM Contact WHERE NOT Email = null ORDER BY "
                        "Id LIMIT 5",
                        objects(), q, err, true));
    CHECK(q.has_relationship);
    CHECK(q.has_not);
    CHECK_FALSE(q.order_by.empty());
    CHECK(q.limit.has_value());
    REQUIRE(soql::parse("SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account)",
                        objects(), q, err, true));
    CHECK(q.has_semi_join);
    REQUIRE(soql::parse("SELECT COUNT(Id) FROM Contact", objects(), q, err, true));
    CHECK(q.has_aggregate);
}
