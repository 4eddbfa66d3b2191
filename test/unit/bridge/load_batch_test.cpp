#include "bridge/change_batch.hpp"
#include "bridge/load_batch.hpp"
#include "salesforce/csv_reader.hpp"
#include "test/unit/bridge/contact_fixture.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;
using test::contact;
using test::record;

TEST_CASE("a load batch turns Bulk CSV rows and records into the table's COPY text",
          "[unit][bridge]") {
    const auto m = contact(); // sfid, isdeleted, lastname, systemmodstamp
    // A results page as Salesforce writes it: header first, every value quoted, NULL empty.
    const std::string page =
        "\"SystemModstamp\",\"Id\",\"LastName\",\"IsDeleted\",\"Unmapped\"\n"
        "\"2024-01-31T10:00:00.000Z\",\"003A\",\"Tab\there \\ \"\"q\"\"\",\"false\",\"x\"\n"
        "\"2024-01-31T10:00:01.000+0100\",\"003B\",,\"false\",\n"
        "\"2024-01-31T10:00:02.000Z\",\"003C\",\"Gone\",\"true\",\n"
        "\"not a date\",\"003D\",\"Bad\",\"false\",\n"
        "\"2024-01-31T10:00:03.000Z\",,\"No id\",\"false\",\n";
    salesforce::csv_reader reader;
    salesforce::csv_rows rows;
    REQUIRE(reader.feed(page, rows));
    REQUIRE(reader.finish(rows));
    const std::vector<std::string> header{"SystemModstamp", "Id", "LastName", "IsDeleted",
                                          "Unmapped"};
    rows.drop_front(1);
    REQUIRE(rows.size() == 5);

    bridge::load_batch b(m);
    bridge::change_batch merged(m); // the merge path reads the same rows the same way
    std::string error;
    for (std::size_t r = 0; r < 3; ++r) {
        REQUIRE(b.add_csv_row(header, rows, r, error));
        REQUIRE(merged.add_csv_row(header, rows, r, error));
    }
    // The mapped columns, then _hc_lastop.
    const std::string expected = "003A\tf\tTab\\there \\\\ \"q\"\t2024-01-31 10:00:00.000\tSYNCED\n"
                                 "003B\tf\t\\N\t2024-01-31 09:00:01.000\tSYNCED\n";
    CHECK(b.copy_text() == expected); // the deleted 003C is not a row
    CHECK(b.size() == 3);
    std::string merge_copy;
    merged.copy_text(merge_copy);
    CHECK(merge_copy == "u\t003A\tf\tTab\\there \\\\ \"q\"\t2024-01-31 10:00:00.000\n"
                        "u\t003B\tf\t\\N\t2024-01-31 09:00:01.000\n"
                        "d\t003C\t\\N\t\\N\t2024-01-31 10:00:02.000\n");

    // A row that does not fit is refused by field, and leaves the batch as it was.
    CHECK_FALSE(b.add_csv_row(header, rows, 3, error));
    CHECK(error.find("SystemModstamp") != std::string::npos);
    CHECK_FALSE(b.add_csv_row(header, rows, 4, error));
    CHECK(error.find("no Id") != std::string::npos);
    CHECK(b.copy_text() == expected);
    CHECK(b.size() == 3);

    // REST records take the same way in.
    bridge::load_batch from_rest(m);
    REQUIRE(from_rest.add_record(record("003E", "E", "2024-01-31T10:00:04.000+0000"), error));
    CHECK(from_rest.copy_text() == "003E\tf\tE\t2024-01-31 10:00:04.000\tSYNCED\n");
    CHECK_FALSE(from_rest.add_record(salesforce::flat_record{}, error));
    from_rest.clear();
    CHECK(from_rest.empty());
    CHECK(from_rest.copy_text().empty());
}
