#include "bridge/merge_sql.hpp"
#include "test/unit/bridge/contact_fixture.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;
using test::contact;
using test::record;

TEST_CASE("the merge SQL enforces the SystemModstamp rule", "[unit][bridge]") {
    const auto m = contact();
    const std::string sql = bridge::merge_sql::merge("salesforce", m);
    CHECK(sql.find("ON CONFLICT (sfid) DO UPDATE") != std::string::npos);
    CHECK(sql.find("\"contact\".systemmodstamp <= EXCLUDED.systemmodstamp") != std::string::npos);
    CHECK(sql.find("d.systemmodstamp > s.systemmodstamp") != std::string::npos);
    CHECK(bridge::merge_sql::copy_into_stage(m) ==
          "COPY \"_sfbridge_stage_contact\" (_op, \"sfid\", \"isdeleted\", \"lastname\", "
          "\"systemmodstamp\") FROM STDIN");
}

TEST_CASE("a small batch merges in one statement over a VALUES list", "[unit][bridge]") {
    const auto m = contact(); // four columns
    const std::string sql = bridge::merge_sql::merge_values("salesforce", m, 2);
    CHECK(sql.starts_with("WITH _src (_op, \"sfid\", \"isdeleted\", \"lastname\", "
                          "\"systemmodstamp\") AS (VALUES ($1::\"char\", $2::"));
    CHECK(sql.find("($6::\"char\"") != std::string::npos); // the second row
    CHECK(sql.find("$10::") != std::string::npos);
    CHECK(sql.find("$11") == std::string::npos);
    // The same rule as the staged merge, each part a CTE.
    CHECK(sql.find("_upsert AS (INSERT INTO \"salesforce\".\"contact\"") != std::string::npos);
    CHECK(sql.find("\"contact\".systemmodstamp <= EXCLUDED.systemmodstamp") != std::string::npos);
    CHECK(sql.find("_remove AS (DELETE FROM") != std::string::npos);
    CHECK(sql.find("_tomb AS (INSERT INTO \"salesforce\"._sfbridge_deleted") != std::string::npos);
    CHECK(sql.find("_sfbridge_stage_") == std::string::npos);
}

TEST_CASE("soft deletes mark the row, and an upsert clears the mark", "[unit][bridge]") {
    auto m = contact();
    const std::string hard = bridge::merge_sql::merge("salesforce", m);
    CHECK(hard.find("DELETE FROM \"salesforce\".\"contact\" USING") != std::string::npos);
    CHECK(hard.find("sfbridge_deleted_at") == std::string::npos);
    m.options.deletes = mappings::delete_mode::soft;
    for (const auto& sql : {bridge::merge_sql::merge("salesforce", m),
                            bridge::merge_sql::merge_values("salesforce", m, 2)}) {
        INFO(sql);
        CHECK(sql.find("DELETE FROM \"salesforce\".\"contact\"") == std::string::npos);
        CHECK(sql.find("UPDATE \"salesforce\".\"contact\" SET isdeleted = true, systemmodstamp = "
                       "s.systemmodstamp, \"sfbridge_deleted_at\" = s.systemmodstamp") !=
              std::string::npos);
        CHECK(sql.find("\"contact\".isdeleted IS NOT TRUE") != std::string::npos);
        CHECK(sql.find(", \"sfbridge_deleted_at\" = NULL, _hc_lastop = 'SYNCED'") !=
              std::string::npos);
    }
}

TEST_CASE("a record that left the row filter loses its row, soft deletes or not",
          "[unit][bridge]") {
    auto m = contact();
    std::string error;
    m.options.filter = mappings::parse_filter("LastName != null", error);
    REQUIRE(m.options.filter);
    const std::string hard = bridge::merge_sql::merge("salesforce", m);
    CHECK(hard.find("DELETE FROM \"salesforce\".\"contact\" USING \"_sfbridge_stage_contact\" s "
                    "WHERE s._op <> 'u'") != std::string::npos);
    CHECK(hard.find("s WHERE s._op <> 'u' ON CONFLICT") != std::string::npos); // tombstoned
    m.options.deletes = mappings::delete_mode::soft;
    for (const auto& sql : {bridge::merge_sql::merge("salesforce", m),
                            bridge::merge_sql::merge_values("salesforce", m, 2)}) {
        INFO(sql);
        CHECK(sql.find("s WHERE s._op = 'd' AND") != std::string::npos);
        CHECK(sql.find("DELETE FROM \"salesforce\".\"contact\" USING") != std::string::npos);
        CHECK(sql.find("s WHERE s._op = 'x' AND") != std::string::npos);
    }
}
