#include "bridge/change_batch.hpp"
#include "bridge/load_batch.hpp"
#include "salesforce/csv_reader.hpp"
#include "test/unit/bridge/contact_fixture.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;
using test::contact;
using test::record;
constexpr auto added = bridge::row_outcome::added;
constexpr auto refused = bridge::row_outcome::refused;

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
    bridge::row_issue issue;
    for (std::size_t r = 0; r < 3; ++r) {
        REQUIRE(b.add_csv_row(header, rows, r, issue) == added);
        REQUIRE(merged.add_csv_row(header, rows, r, issue) == added);
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
    CHECK(b.add_csv_row(header, rows, 3, issue) == refused);
    CHECK(issue.message.find("SystemModstamp") != std::string::npos);
    CHECK(issue.sfid == "003D");
    CHECK(b.add_csv_row(header, rows, 4, issue) == refused);
    CHECK(issue.message.find("no Id") != std::string::npos);
    CHECK(b.copy_text() == expected);
    CHECK(b.size() == 3);

    // REST records take the same way in.
    bridge::load_batch from_rest(m);
    REQUIRE(from_rest.add_record(record("003E", "E", "2024-01-31T10:00:04.000+0000"), issue) ==
            added);
    CHECK(from_rest.copy_text() == "003E\tf\tE\t2024-01-31 10:00:04.000\tSYNCED\n");
    CHECK(from_rest.add_record(salesforce::flat_record{}, issue) == refused);
    from_rest.clear();
    CHECK(from_rest.empty());
    CHECK(from_rest.copy_text().empty());
}

TEST_CASE("a Bulk row with a NUL is loaded without it, one not UTF-8 is refused alone",
          "[unit][bridge]") {
    const auto m = contact();
    using namespace std::string_literals;
    const std::string page = "\"Id\",\"LastName\",\"SystemModstamp\"\n"
                             "\"003A\",\"Nul\0here\",\"2024-01-31T10:00:00.000Z\"\n"
                             "\"003B\",\"Caf\xE9\",\"2024-01-31T10:00:00.000Z\"\n"
                             "\"003C\",\"Fine \xF0\x9F\x98\x80\",\"2024-01-31T10:00:00.000Z\"\n"s;
    salesforce::csv_reader reader;
    salesforce::csv_rows rows;
    REQUIRE(reader.feed(page, rows));
    REQUIRE(reader.finish(rows));
    rows.drop_front(1);
    REQUIRE(rows.size() == 3);
    const std::vector<std::string> header{"Id", "LastName", "SystemModstamp"};
    bridge::load_batch b(m);
    bridge::change_batch merged(m);
    bridge::row_issue issue;
    CHECK(b.add_csv_row(header, rows, 0, issue) == bridge::row_outcome::altered);
    CHECK(issue.sfid == "003A");
    CHECK(issue.message == "NUL characters removed from field LastName");
    CHECK(merged.add_csv_row(header, rows, 0, issue) == bridge::row_outcome::altered);
    CHECK(b.add_csv_row(header, rows, 1, issue) == refused);
    CHECK(issue.sfid == "003B");
    CHECK(issue.message.find("LastName: not valid UTF-8") != std::string::npos);
    CHECK(merged.add_csv_row(header, rows, 1, issue) == refused);
    CHECK(b.add_csv_row(header, rows, 2, issue) == added);
    CHECK(merged.add_csv_row(header, rows, 2, issue) == added);
    CHECK(b.copy_text() == "003A\t\\N\tNulhere\t2024-01-31 10:00:00.000\tSYNCED\n"
                           "003C\t\\N\tFine \xF0\x9F\x98\x80\t2024-01-31 10:00:00.000\tSYNCED\n");
    CHECK(merged.size() == 2);
}
