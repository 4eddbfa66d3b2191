#include "bridge/change_batch.hpp"
#include "test/unit/bridge/contact_fixture.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;
using test::contact;
using test::record;
constexpr auto added = bridge::row_outcome::added;
constexpr auto refused = bridge::row_outcome::refused;

TEST_CASE("a change batch keeps the newest version of each record", "[unit][bridge]") {
    const auto m = contact();
    bridge::change_batch b(m);
    bridge::row_issue issue;
    REQUIRE(b.add_record(record("003A", "Old", "2024-01-31T10:00:00.000+0000"), issue) == added);
    REQUIRE(b.add_record(record("003A", "New", "2024-01-31T10:00:01.000+0000"), issue) == added);
    REQUIRE(b.add_record(record("003A", "Stale", "2024-01-31T09:59:59.000Z"), issue) == added);
    REQUIRE(b.add_record(record("003B", "B", "2024-01-31T10:00:00.000Z"), issue) == added);
    b.add_delete("003B", "2024-01-31 10:00:00.000"); // same millisecond: the later change wins
    CHECK(b.size() == 2);
    CHECK(b.upserts() == 1);
    CHECK(b.deletes() == 1);
    CHECK(b.newest_modstamp() == "2024-01-31 10:00:01.000");
    std::string copy;
    b.copy_text(copy);
    // _op, then Id (sfid), IsDeleted, LastName, SystemModstamp in the mapping's column order.
    CHECK(copy == "u\t003A\tf\tNew\t2024-01-31 10:00:01.000\n"
                  "d\t003B\t\\N\t\\N\t2024-01-31 10:00:00.000\n");

    // A record read after it was deleted is a delete, not a row to write.
    auto gone = record("003D", "D", "2024-01-31T10:00:02.000Z");
    gone.fields.back().raw = "true"; // IsDeleted
    REQUIRE(b.add_record(gone, issue) == added);
    CHECK(b.deletes() == 2);
    CHECK(b.size() == 3);

    CHECK(b.add_record(record("003C", "C", "not a date"), issue) == refused);
    CHECK(issue.message.find("SystemModstamp") != std::string::npos);
    CHECK(issue.sfid == "003C"); // a refused record is recorded with its Id
    salesforce::flat_record no_id;
    CHECK(b.add_record(no_id, issue) == refused);
    CHECK(issue.message.find("no Id") != std::string::npos);
    CHECK(issue.sfid.empty());
}

TEST_CASE("a record with NUL characters is added without them and says so", "[unit][bridge]") {
    const auto m = contact();
    bridge::change_batch b(m);
    bridge::row_issue issue;
    using namespace std::string_literals;
    CHECK(b.add_record(record("003A", "Nul\0in\0name"s, "2024-01-31T10:00:00.000Z"), issue) ==
          bridge::row_outcome::altered);
    CHECK(issue.sfid == "003A");
    CHECK(issue.message == "NUL characters removed from field LastName");
    std::string copy;
    b.copy_text(copy);
    CHECK(copy == "u\t003A\tf\tNulinname\t2024-01-31 10:00:00.000\n");
    // An Id that cannot go into _sfbridge_errors.sfid is left out.
    CHECK(b.add_record(record("003-far-too-long-for-an-id", "X", "bad"), issue) == refused);
    CHECK(issue.sfid.empty());
}

TEST_CASE("a change batch splits into parts that keep their entries", "[unit][bridge]") {
    const auto m = contact();
    bridge::change_batch b(m);
    bridge::row_issue issue;
    REQUIRE(b.add_record(record("003A", "A", "2024-01-31T10:00:00.000Z"), issue) == added);
    REQUIRE(b.add_record(record("003B", "B", "2024-01-31T10:00:02.000Z"), issue) == added);
    b.add_delete("003C", "2024-01-31 10:00:01.000");
    const auto first = b.part(0, 1), rest = b.part(1, 3), none = b.part(3, 3);
    CHECK(first.size() == 1);
    CHECK(first.sfid(0) == "003A");
    CHECK(first.modstamp(0) == "2024-01-31 10:00:00.000");
    CHECK(rest.size() == 2);
    CHECK(rest.deletes() == 1);
    CHECK(rest.newest_modstamp() == "2024-01-31 10:00:02.000");
    CHECK(none.empty());
    std::string whole, parts;
    b.copy_text(whole);
    first.copy_text(parts);
    rest.copy_text(parts);
    CHECK(parts == whole);
}

TEST_CASE("a record that left the row filter is a removal of its own, read from Id and "
          "SystemModstamp",
          "[unit][bridge]") {
    const auto m = contact();
    bridge::change_batch b(m);
    bridge::row_issue issue;
    REQUIRE(b.add_record(record("003A", "In", "2024-01-31T10:00:00.000Z"), issue) == added);
    CHECK(b.add_leave_of(record("003A", "Out", "2024-01-31T10:00:01.000Z")));
    CHECK(b.add_delete_of(record("003B", "Gone", "2024-01-31T10:00:02.000+0000")));
    CHECK_FALSE(b.add_leave_of(record("003C", "bad stamp", "yesterday")));
    CHECK(b.size() == 2);
    CHECK(b.deletes() == 2);
    std::string copy;
    b.copy_text(copy);
    CHECK(copy == "x\t003A\t\\N\t\\N\t2024-01-31 10:00:01.000\n"
                  "d\t003B\t\\N\t\\N\t2024-01-31 10:00:02.000\n");
}
