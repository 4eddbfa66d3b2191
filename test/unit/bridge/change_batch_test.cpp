#include "bridge/change_batch.hpp"
#include "test/unit/bridge/contact_fixture.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;
using test::contact;
using test::record;

TEST_CASE("a change batch keeps the newest version of each record", "[unit][bridge]") {
    const auto m = contact();
    bridge::change_batch b(m);
    std::string error;
    REQUIRE(b.add_record(record("003A", "Old", "2024-01-31T10:00:00.000+0000"), error));
    REQUIRE(b.add_record(record("003A", "New", "2024-01-31T10:00:01.000+0000"), error));
    REQUIRE(b.add_record(record("003A", "Stale", "2024-01-31T09:59:59.000Z"), error));
    REQUIRE(b.add_record(record("003B", "B", "2024-01-31T10:00:00.000Z"), error));
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
    REQUIRE(b.add_record(gone, error));
    CHECK(b.deletes() == 2);
    CHECK(b.size() == 3);

    CHECK_FALSE(b.add_record(record("003C", "C", "not a date"), error));
    CHECK(error.find("SystemModstamp") != std::string::npos);
    salesforce::flat_record no_id;
    CHECK_FALSE(b.add_record(no_id, error));
    CHECK(error.find("no Id") != std::string::npos);
}
