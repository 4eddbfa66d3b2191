#include "salesforce/csv_reader.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::salesforce;

namespace {
std::vector<std::vector<std::string>> parse_csv(std::string_view text, std::size_t chunk) {
    csv_reader r;
    csv_rows rows;
    for (std::size_t i = 0; i < text.size(); i += chunk)
        REQUIRE(r.feed(text.substr(i, chunk), rows));
    REQUIRE(r.finish(rows));
    std::vector<std::vector<std::string>> out;
    for (std::size_t k = 0; k < rows.size(); ++k) {
        std::vector<std::string> row;
        for (std::size_t i = 0; i < rows.width(k); ++i)
            row.push_back((rows.quoted(k, i) ? "\"" : "") + std::string(rows.field(k, i)));
        out.push_back(row);
    }
    return out;
}
} // namespace

TEST_CASE("the CSV reader handles quotes commas and newlines split anywhere",
          "[unit][salesforce]") {
    const std::string text = "\"Id\",\"Name\",\"Notes\"\n"
                             "\"001\",\"Acme, Inc.\",\"line one\nline two\"\n"
                             "\"002\",\"Say \"\"hi\"\"\",\r\n"
                             "003,plain,\"\"\n";
    const std::vector<std::vector<std::string>> expected{
        {"\"Id", "\"Name", "\"Notes"},
        {"\"001", "\"Acme, Inc.", "\"line one\nline two"},
        {"\"002", "\"Say \"hi\"", ""}, // empty and unquoted: NULL
        {"003", "plain", "\""},        // quoted empty: an empty string
    };
    for (std::size_t chunk = 1; chunk <= text.size(); ++chunk) {
        INFO("chunk size " << chunk);
        CHECK(parse_csv(text, chunk) == expected);
    }
    // No newline at the end: the last row still counts.
    CHECK(parse_csv("a,b\n1,2", 3) ==
          std::vector<std::vector<std::string>>{{"a", "b"}, {"1", "2"}});

    csv_reader bad;
    csv_rows ignore;
    CHECK_FALSE(bad.feed("a,b\"c\n", ignore));
    CHECK(bad.error().find("quote") != std::string::npos);
    csv_reader after_quote;
    CHECK_FALSE(after_quote.feed("\"a\"b,c\n", ignore));
    CHECK(after_quote.error().find("after a closing quote") != std::string::npos);
    csv_reader open;
    CHECK(open.feed("\"never closed", ignore));
    CHECK_FALSE(open.finish(ignore));

    // A page's header is hidden with drop_front; rows keep their order and text.
    csv_reader page;
    csv_rows rows;
    REQUIRE(page.feed("Id,Name\r\n1,a\r\n2,\r\n", rows));
    REQUIRE(page.finish(rows));
    REQUIRE(rows.size() == 3);
    rows.drop_front(1);
    REQUIRE(rows.size() == 2);
    CHECK(rows.field(0, 0) == "1");
    CHECK(rows.field(0, 1) == "a");
    CHECK(rows.field(1, 1).empty());
    CHECK_FALSE(rows.quoted(1, 1));
    rows.clear();
    CHECK(rows.empty());
}
