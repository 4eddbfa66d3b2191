#include "test/support/sim_fixture.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {
const std::map<std::string, std::string> json_headers() {
    std::map<std::string, std::string> h;
    h["Content-Type"] = "application/json";
    return h;
}
} // namespace

TEST_CASE("versions and describes", "[sim][rest]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        auto versions = co_await c.call(http::verb::get, "/services/data/");
        REQUIRE(versions.status == 200);
        CHECK(versions.headers.count("sforce-limit-info") == 0); // not counted
        auto v = parse_json(versions.body);
        bool found = false;
        for (auto e : v->root.get_array())
            if (str(e["version"]) == "60.0")
                found = str(e["url"]) == "/services/data/v60.0" && str(e["label"]) == "Spring '24";
        CHECK(found);

        co_await f.login(c);
        auto global = co_await c.call(http::verb::get, f.api("/sobjects/"));
        REQUIRE(global.status == 200);
        CHECK(global.headers["sforce-limit-info"] == "api-usage=1/100000");
        auto g = parse_json(global.body);
        CHECK(std::int64_t(g->root["maxBatchSize"]) == 200);
        std::vector<std::string> names;
        for (auto o : g->root["sobjects"].get_array())
            names.push_back(str(o["name"]));
        for (const char* n : {"Account", "Contact", "Lead", "Opportunity", "Case", "PushTopic"})
            CHECK(std::find(names.begin(), names.end(), n) != names.end());

        auto describe = co_await c.call(http::verb::get, f.api("/sobjects/contact/describe"));
        REQUIRE(describe.status == 200);
        auto d = parse_json(describe.body);
        CHECK(str(d->root["name"]) == "Contact");
        CHECK(str(d->root["keyPrefix"]) == "003");
        CHECK(str(d->root["urls"]["describe"]) == "/services/data/v60.0/sobjects/Contact/describe");
        bool last_name = false;
        for (auto fld : d->root["fields"].get_array())
            if (str(fld["name"]) == "LastName")
                last_name = std::int64_t(fld["length"]) == 80 && !bool(fld["nillable"]);
        CHECK(last_name);

        auto missing = co_await c.call(http::verb::get, f.api("/sobjects/Nope__c/describe"));
        CHECK(missing.status == 404);
        CHECK(missing.body ==
              R"([{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}])");
        auto old = co_await c.call(http::verb::get, "/services/data/v19.0/sobjects/");
        CHECK(old.status == 404);
    }());
}

TEST_CASE("single records are created, read, updated and deleted", "[sim][rest]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        auto created = co_await c.call(
            http::verb::post, f.api("/sobjects/Contact"),
            R"({"FirstName":"Ann","LastName":"Lee","Birthdate":"1990-02-28"})", json_headers());
        REQUIRE(created.status == 201);
        auto cr = parse_json(created.body);
        const std::string id = str(cr->root["id"]);
        CHECK(created.body == R"({"id":")" + id + R"(","success":true,"errors":[]})");

        auto got = co_await c.call(http::verb::get, f.api("/sobjects/Contact/" + id +
                                                          "?fields=Name,Birthdate,SystemModstamp"));
        REQUIRE(got.status == 200);
        auto g = parse_json(got.body);
        CHECK(str(g->root["attributes"]["type"]) == "Contact");
        CHECK(str(g->root["attributes"]["url"]) == "/services/data/v60.0/sobjects/Contact/" + id);
        CHECK(str(g->root["Name"]) == "Ann Lee");
        CHECK(str(g->root["Birthdate"]) == "1990-02-28");
        CHECK(str(g->root["SystemModstamp"]).ends_with("+0000"));

        auto patched = co_await c.call(http::verb::patch, f.api("/sobjects/Contact/" + id),
                                       R"({"Email":"ann@example.com"})", json_headers());
        CHECK(patched.status == 204);
        CHECK(patched.body.empty());

        auto bad = co_await c.call(http::verb::post, f.api("/sobjects/Contact"),
                                   R"({"FirstName":"NoLast"})", json_headers());
        CHECK(bad.status == 400);
        CHECK(
            bad.body ==
            R"([{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}])");
        auto unknown = co_await c.call(http::verb::post, f.api("/sobjects/Contact"),
                                       R"({"LastName":"x","Nope__c":1})", json_headers());
        CHECK(unknown.status == 400);
        CHECK_THAT(unknown.body,
                   Catch::Contains("No such column 'Nope__c' on sobject of type Contact"));
        auto wrong_type =
            co_await c.call(http::verb::post, f.api("/sobjects/Contact"),
                            R"({"LastName":"x","Birthdate":"yesterday"})", json_headers());
        CHECK(wrong_type.status == 400);
        CHECK_THAT(wrong_type.body, Catch::Contains("JSON_PARSER_ERROR"));
        auto not_json =
            co_await c.call(http::verb::post, f.api("/sobjects/Contact"), "{oops", json_headers());
        CHECK(not_json.status == 400);

        auto deleted = co_await c.call(http::verb::delete_, f.api("/sobjects/Contact/" + id));
        CHECK(deleted.status == 204);
        auto gone = co_await c.call(http::verb::get, f.api("/sobjects/Contact/" + id));
        CHECK(gone.status == 404);
        auto twice = co_await c.call(http::verb::delete_, f.api("/sobjects/Contact/" + id));
        CHECK(twice.status == 404);
        CHECK_THAT(twice.body, Catch::Contains("ENTITY_IS_DELETED"));

        // Undelete, as a user would from the recycle bin.
        auto undeleted =
            co_await c.call(http::verb::post, "/__sim/records/Contact/" + id + "/undelete");
        CHECK(undeleted.status == 200);
        auto back = co_await c.call(http::verb::get, f.api("/sobjects/Contact/" + id));
        CHECK(back.status == 200);
    }());
}

TEST_CASE("upsert by external id answers 201, 200, 204, 300 and 404", "[sim][rest]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        const std::string path = "/sobjects/Sim_Everything__c/External_Id__c/EXT-1";
        auto created =
            co_await c.call(http::verb::patch, f.api(path), R"({"Name":"one"})", json_headers());
        REQUIRE(created.status == 201);
        auto cr = parse_json(created.body);
        CHECK(bool(cr->root["created"]));
        const std::string id = str(cr->root["id"]);

        auto updated =
            co_await c.call(http::verb::patch, f.api(path), R"({"Name":"two"})", json_headers());
        CHECK(updated.status == 200);
        CHECK(updated.body ==
              R"({"id":")" + id + R"(","success":true,"errors":[],"created":false})");
        auto old_api = co_await c.call(http::verb::patch, "/services/data/v45.0" + path,
                                       R"({"Name":"three"})", json_headers());
        CHECK(old_api.status == 204);

        auto by_ext = co_await c.call(http::verb::get, f.api(path));
        CHECK(by_ext.status == 200);
        CHECK(str(parse_json(by_ext.body)->root["Name"]) == "three");

        auto not_ext =
            co_await c.call(http::verb::patch, f.api("/sobjects/Sim_Everything__c/Namez/x"),
                            R"({"Name":"x"})", json_headers());
        CHECK(not_ext.status == 404);
        CHECK(
            not_ext.body ==
            R"([{"message":"Provided external ID field does not exist or is not accessible: Namez","errorCode":"NOT_FOUND"}])");

        // Email is an idLookup field on Contact but not unique: two matches give 300.
        for (int i = 0; i < 2; ++i)
            (void)co_await c.call(http::verb::post, f.api("/sobjects/Contact"),
                                  R"({"LastName":"Twin","Email":"twin@example.com"})",
                                  json_headers());
        auto many =
            co_await c.call(http::verb::patch, f.api("/sobjects/Contact/Email/twin@example.com"),
                            R"({"LastName":"Twin"})", json_headers());
        CHECK(many.status == 300);
        CHECK(parse_json(many.body)->root.get_array().size() == 2);
    }());
}

TEST_CASE("sObject Collections report each record in input order", "[sim][rest]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        auto created = co_await c.call(http::verb::post, f.api("/composite/sobjects"),
                                       R"({"allOrNone":false,"records":[
                {"attributes":{"type":"Account"},"Name":"Acme"},
                {"attributes":{"type":"Contact"},"FirstName":"No last name"},
                {"attributes":{"type":"Contact"},"LastName":"Lee"}]})",
                                       json_headers());
        REQUIRE(created.status == 200);
        auto cr = parse_json(created.body);
        auto results = cr->root.get_array();
        REQUIRE(results.size() == 3);
        CHECK(bool(results.at(0)["success"]));
        CHECK_FALSE(bool(results.at(1)["success"]));
        CHECK(str(results.at(1)["errors"].at(0)["statusCode"]) == "REQUIRED_FIELD_MISSING");
        CHECK(bool(results.at(2)["success"]));
        const std::string account = str(results.at(0)["id"]);
        const std::string contact = str(results.at(2)["id"]);

        auto rolled = co_await c.call(http::verb::post, f.api("/composite/sobjects"),
                                      R"({"allOrNone":true,"records":[
                {"attributes":{"type":"Account"},"Name":"Kept?"},
                {"attributes":{"type":"Contact"}}]})",
                                      json_headers());
        auto rr = parse_json(rolled.body);
        CHECK(str(rr->root.at(0)["errors"].at(0)["statusCode"]) ==
              "ALL_OR_NONE_OPERATION_ROLLED_BACK");
        CHECK(str(rr->root.at(1)["errors"].at(0)["statusCode"]) == "REQUIRED_FIELD_MISSING");
        auto count =
            co_await c.call(http::verb::get, f.api("/query?q=SELECT+COUNT()+FROM+Account"));
        CHECK(std::int64_t(parse_json(count.body)->root["totalSize"]) == 1);

        auto updated = co_await c.call(
            http::verb::patch, f.api("/composite/sobjects"),
            R"({"records":[{"attributes":{"type":"Contact"},"id":")" + contact +
                R"(","Email":"lee@example.com"},{"attributes":{"type":"Contact"},"id":"003000000000000AAA","Email":"x@y.z"}]})",
            json_headers());
        auto ur = parse_json(updated.body);
        CHECK(bool(ur->root.at(0)["success"]));
        CHECK_FALSE(bool(ur->root.at(1)["success"]));

        auto upserted = co_await c.call(
            http::verb::patch, f.api("/composite/sobjects/Sim_Everything__c/External_Id__c"),
            R"({"records":[{"attributes":{"type":"Sim_Everything__c"},"External_Id__c":"A","Name":"a"},
                           {"attributes":{"type":"Sim_Everything__c"},"External_Id__c":"A","Name":"a2"}]})",
            json_headers());
        auto up = parse_json(upserted.body);
        CHECK(bool(up->root.at(0)["created"]));
        CHECK_FALSE(bool(up->root.at(1)["created"]));
        CHECK(str(up->root.at(0)["id"]) == str(up->root.at(1)["id"]));

        auto removed = co_await c.call(http::verb::delete_,
                                       f.api("/composite/sobjects?ids=" + account + "," + contact +
                                             ",001000000000000AAA&allOrNone=false"));
        auto rm = parse_json(removed.body);
        CHECK(bool(rm->root.at(0)["success"]));
        CHECK(bool(rm->root.at(1)["success"]));
        CHECK_FALSE(bool(rm->root.at(2)["success"]));
        auto none = co_await c.call(http::verb::delete_, f.api("/composite/sobjects"));
        CHECK(none.status == 400);
        CHECK(none.body ==
              R"([{"message":"At least 1 Id is required.","errorCode":"REQUIRED_FIELD_MISSING"}])");

        std::string big = R"({"records":[)";
        for (int i = 0; i < 201; ++i)
            big += std::string(i ? "," : "") + R"({"attributes":{"type":"Account"},"Name":"n"})";
        big += "]}";
        auto too_many =
            co_await c.call(http::verb::post, f.api("/composite/sobjects"), big, json_headers());
        CHECK(too_many.status == 400);
        CHECK_THAT(too_many.body, Catch::Contains("EXCEEDED_ID_LIMIT"));
    }());
}

TEST_CASE("query pages across 10000 records and queryAll sees the recycle bin", "[sim][rest]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        auto gen = co_await c.call(http::verb::post, "/__sim/generate",
                                   R"({"object":"Contact","kind":"create","count":10000})");
        REQUIRE(gen.status == 202);
        for (int i = 0; i < 1000; ++i) {
            auto st = co_await c.call(http::verb::get, "/__sim/generate/1");
            if (bool(parse_json(st.body)->root["finished"]))
                break;
            co_await sleep_ms(10);
        }
        std::map<std::string, std::string> batch;
        batch["Sforce-Query-Options"] = "batchSize=1000";
        auto first = co_await c.call(http::verb::get,
                                     f.api("/query?q=SELECT+Id,LastName+FROM+Contact+ORDER+BY+Id"),
                                     "", std::move(batch));
        REQUIRE(first.status == 200);
        auto d = parse_json(first.body);
        CHECK(std::int64_t(d->root["totalSize"]) == 10000);
        CHECK_FALSE(bool(d->root["done"]));
        std::set<std::string> seen;
        std::string previous;
        for (auto r : d->root["records"].get_array())
            seen.insert(str(r["Id"]));
        std::string next = str(d->root["nextRecordsUrl"]);
        CHECK(next.starts_with("/services/data/v60.0/query/01g"));
        int pages = 1;
        while (!next.empty()) {
            auto page = co_await c.call(http::verb::get, next);
            REQUIRE(page.status == 200);
            auto p = parse_json(page.body);
            for (auto r : p->root["records"].get_array())
                seen.insert(str(r["Id"]));
            next = bool(p->root["done"]) ? "" : str(p->root["nextRecordsUrl"]);
            ++pages;
        }
        CHECK(pages == 10);
        CHECK(seen.size() == 10000);

        // Delete one; query no longer sees it, queryAll does.
        const std::string victim = *seen.begin();
        (void)co_await c.call(http::verb::delete_, f.api("/sobjects/Contact/" + victim));
        auto q = co_await c.call(
            http::verb::get,
            f.api("/query?q=SELECT+Id+FROM+Contact+WHERE+Id+%3D+%27" + victim + "%27"));
        CHECK(std::int64_t(parse_json(q.body)->root["totalSize"]) == 0);
        auto qa = co_await c.call(
            http::verb::get, f.api("/queryAll?q=SELECT+Id,IsDeleted+FROM+Contact+WHERE+Id+%3D+%27" +
                                   victim + "%27"));
        auto qad = parse_json(qa.body);
        REQUIRE(std::int64_t(qad->root["totalSize"]) == 1);
        CHECK(bool(qad->root["records"].at(0)["IsDeleted"]));

        auto invalid = co_await c.call(http::verb::get, f.api("/query/01gnope-2000"));
        CHECK(invalid.status == 400);
        CHECK_THAT(invalid.body, Catch::Contains("INVALID_QUERY_LOCATOR"));
        auto malformed =
            co_await c.call(http::verb::get, f.api("/query?q=SELECT+Nope__c+FROM+Contact"));
        CHECK(malformed.status == 400);
        CHECK_THAT(malformed.body, Catch::Contains("INVALID_FIELD"));
    }());
}

TEST_CASE("updated and deleted resources and limits", "[sim][rest]") {
    sim_fixture f([](sim::simulator_config& c) { c.api_daily_limit = 12; });
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        const std::string start = sim::format_datetime(f.sim->data().now_ms() - 1000);
        auto a = co_await c.call(http::verb::post, f.api("/sobjects/Account"), R"({"Name":"A"})",
                                 json_headers());
        auto b = co_await c.call(http::verb::post, f.api("/sobjects/Account"), R"({"Name":"B"})",
                                 json_headers());
        const std::string a_id = str(parse_json(a.body)->root["id"]);
        const std::string b_id = str(parse_json(b.body)->root["id"]);
        (void)co_await c.call(http::verb::delete_, f.api("/sobjects/Account/" + b_id));
        const std::string end = sim::format_datetime(f.sim->data().now_ms() + 1000);
        auto updated = co_await c.call(
            http::verb::get, f.api("/sobjects/Account/updated/?start=" + start + "&end=" + end));
        auto u = parse_json(updated.body);
        REQUIRE(u->root["ids"].get_array().size() == 1);
        CHECK(str(u->root["ids"].at(0)) == a_id);
        CHECK(str(u->root["latestDateCovered"]).ends_with("+0000"));
        auto deleted = co_await c.call(
            http::verb::get, f.api("/sobjects/Account/deleted/?start=" + start + "&end=" + end));
        auto d = parse_json(deleted.body);
        REQUIRE(d->root["deletedRecords"].get_array().size() == 1);
        CHECK(str(d->root["deletedRecords"].at(0)["id"]) == b_id);

        auto limits = co_await c.call(http::verb::get, f.api("/limits"));
        auto l = parse_json(limits.body);
        CHECK(std::int64_t(l->root["DailyApiRequests"]["Max"]) == 12);
        CHECK(limits.headers["sforce-limit-info"] == "api-usage=6/12");
        for (int i = 0; i < 6; ++i)
            (void)co_await c.call(http::verb::get, f.api("/limits"));
        auto over = co_await c.call(http::verb::get, f.api("/limits"));
        CHECK(over.status == 403);
        CHECK(
            over.body ==
            R"([{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}])");
        CHECK(over.headers["sforce-limit-info"] == "api-usage=12/12");
    }());
}

TEST_CASE("validation rules and row locks make chosen records fail", "[sim][rest][fault]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        auto rules = co_await c.call(
            http::verb::put, "/__sim/validation-rules",
            R"([{"object":"Contact","field":"LastName","equals":"Reject","message":"Last name may not be Reject"}])");
        CHECK(rules.status == 200);
        auto r = co_await c.call(
            http::verb::post, f.api("/composite/sobjects"),
            R"({"records":[{"attributes":{"type":"Contact"},"LastName":"Reject"},{"attributes":{"type":"Contact"},"LastName":"Fine"}]})",
            json_headers());
        auto d = parse_json(r.body);
        CHECK(str(d->root.at(0)["errors"].at(0)["statusCode"]) ==
              "FIELD_CUSTOM_VALIDATION_EXCEPTION");
        CHECK(str(d->root.at(0)["errors"].at(0)["message"]) == "Last name may not be Reject");
        CHECK(bool(d->root.at(1)["success"]));
        const std::string id = str(d->root.at(1)["id"]);

        (void)co_await c.call(http::verb::put, "/__sim/faults",
                              R"({"lockedIds":[")" + id + R"("]})");
        auto locked = co_await c.call(http::verb::patch, f.api("/composite/sobjects"),
                                      R"({"records":[{"attributes":{"type":"Contact"},"id":")" +
                                          id + R"(","Email":"a@b.c"}]})",
                                      json_headers());
        CHECK(str(parse_json(locked.body)->root.at(0)["errors"].at(0)["statusCode"]) ==
              "UNABLE_TO_LOCK_ROW");
        (void)co_await c.call(http::verb::put, "/__sim/faults", "{}");
        auto unlocked = co_await c.call(http::verb::patch, f.api("/sobjects/Contact/" + id),
                                        R"({"Email":"a@b.c"})", json_headers());
        CHECK(unlocked.status == 204);
    }());
}

TEST_CASE("synthetic objects are described, written and queried like the others", "[sim][rest]") {
    sim_fixture f([](sim::simulator_config& cfg) { cfg.synthetic_objects = 3; });
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        auto d = co_await c.call(http::verb::get, f.api("/sobjects/Sim_Object_3__c/describe"));
        REQUIRE(d.status == 200);
        auto dj = parse_json(d.body);
        CHECK(str(dj->root["name"]) == "Sim_Object_3__c");
        CHECK(str(dj->root["keyPrefix"]) == "b03");
        auto created = co_await c.call(http::verb::post, f.api("/sobjects/Sim_Object_2__c"),
                                       R"({"Name":"Two","Int__c":2})", json_headers());
        REQUIRE(created.status == 201);
        const std::string id = str(parse_json(created.body)->root["id"]);
        CHECK(id.rfind("b02", 0) == 0);
        auto q =
            co_await c.call(http::verb::get, f.api("/query?q=SELECT+Id,Name+FROM+Sim_Object_2__c"));
        REQUIRE(q.status == 200);
        auto qj = parse_json(q.body);
        CHECK(std::int64_t(qj->root["totalSize"]) == 1);
        CHECK(str(qj->root["records"].at(0)["Id"]) == id);
        auto none = co_await c.call(http::verb::get, f.api("/sobjects/Sim_Object_4__c/describe"));
        CHECK(none.status == 404);
    }());
}
