#include "test/chaos/invariants.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::chaos;

namespace {
object_spec contact() {
    return {"Contact", "contact", "Department", "LastName", "Title", "Description", "", false};
}
sim_record rec(std::string id, std::string marker, std::string name, bool deleted = false) {
    return {std::move(id), deleted, {{"Department", marker}, {"LastName", name}}, "", ""};
}
table_row row(long long id, std::optional<std::string> sfid, std::string marker, std::string name) {
    return {std::move(sfid), id, {{"Department", marker}, {"LastName", name}}};
}
} // namespace

TEST_CASE("a table equal to Salesforce's live records passes, with NUL and empty compared as they "
          "arrive",
          "[chaos]") {
    auto r = rec("003A", "app-1", std::string("O'B\0rien", 8));
    r.fields["Title"] = std::string();
    auto t = row(1, "003A", "app-1", "O'Brien");
    t.fields["Title"] = std::nullopt;
    const std::vector<sim_record> sim{r, rec("003B", "sf-1", "Gone", true)};
    CHECK(compare_table(contact(), sim, {t}).empty());
}

TEST_CASE("a table that differs is reported with the record, the field and both values",
          "[chaos]") {
    const std::vector<sim_record> sim{rec("003A", "app-1", "New"), rec("003B", "sf-1", "Here"),
                                      rec("003D", "sf-3", "Deleted", true)};
    const std::vector<table_row> rows{
        row(1, "003A", "app-1", "Old"), row(2, std::nullopt, "app-2", "x"),
        row(3, "003C", "sf-2", "Stale"), row(4, "003A", "app-1", "New"),
        row(5, "003D", "sf-3", "Deleted")};
    const auto f = compare_table(contact(), sim, rows);
    std::set<std::string> kinds;
    std::string all;
    for (const auto& x : f) {
        kinds.insert(x.invariant);
        all += x.detail + "\n";
    }
    CHECK(kinds.count("every row is linked to a record"));
    CHECK(kinds.count("one row per record"));
    CHECK(kinds.count("every record is in the table")); // 003B
    CHECK(kinds.count("no row outlives its record"));   // 003C and the deleted 003D
    CHECK(all.find("003B") != std::string::npos);
    CHECK(all.find("003C") != std::string::npos);
    CHECK(all.find("003D") != std::string::npos);
}

TEST_CASE("each app insert must be exactly one record, or none when it FAILED", "[chaos]") {
    const std::vector<sim_record> sim{rec("003A", "app-1", "x"), rec("003B", "app-2", "x"),
                                      rec("003C", "app-2", "x", true), rec("003D", "app-4", "x")};
    const auto f = check_inserts(contact(), {"app-1", "app-2", "app-3", "app-4", "app-5"},
                                 {"app-4", "app-5"}, sim);
    REQUIRE(f.size() == 3);
    CHECK(f[0].detail.find("app-2 became 2 records (003B {") != std::string::npos);
    CHECK(f[0].detail.find("}, 003C {") != std::string::npos);
    CHECK(f[1].detail.find("app-3 became 0 records") != std::string::npos);
    CHECK(f[2].detail.find("app-4 became 1 records (003D) though its trigger-log row FAILED") !=
          std::string::npos);
}

TEST_CASE("the app's last value of a field only it writes must be Salesforce's", "[chaos]") {
    auto a = rec("003A", "app-1", "x");
    a.fields["Title"] = "v2";
    auto b = rec("003B", "app-2", "x");
    b.fields["Title"] = "v1";
    auto gone = rec("003C", "app-3", "x", true);
    const auto f = check_app_values(contact(), {{"app-1", "v2"}, {"app-2", "v2"}, {"app-3", "v9"}},
                                    {a, b, gone});
    REQUIRE(f.size() == 1);
    CHECK(f[0].detail.find("003B") != std::string::npos);
    CHECK(f[0].detail.find("app wrote \"v2\", Salesforce has \"v1\"") != std::string::npos);
}

TEST_CASE("an app value of the shared field that lost needs a later Salesforce write or a "
          "conflict row",
          "[chaos]") {
    const std::vector<sim_record> sim{rec("003A", "app-1", "SF later"), rec("003B", "app-2", "Won"),
                                      rec("003C", "app-3", "Unexplained"),
                                      rec("003D", "app-4", "App"), rec("003E", "app-5", "x", true)};
    const std::map<std::string, shared_write> app{{"app-1", {"App", 100}},
                                                  {"app-2", {"App", 100}},
                                                  {"app-3", {"App", 100}},
                                                  {"app-4", {"App", 100}},
                                                  {"app-5", {"App", 100}}};
    const std::map<std::string, long long> sf{{"app-1", 150}, {"app-3", 50}};
    const auto f = check_shared(contact(), app, sf, {"003B|lastname"}, sim);
    REQUIRE(f.size() == 1);
    CHECK(f[0].detail.find("003C") != std::string::npos);
}
