#include "bridge/hc_api.hpp"
#include "mappings/json_value.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge;
using namespace sfbridge::bridge;
namespace http = boost::beast::http;
using mappings::json_value;

namespace {

mappings::mapping contact_mapping() {
    mappings::mapping m;
    m.object_name = "Contact";
    m.access = mappings::access_mode::read_write;
    m.sf_notify_enabled = true;
    m.fields = {{"Id", json_value::object{}}, {"LastName", json_value::object{}}};
    m.indexes = std::map<std::string, bool>{{"LastName", false}};
    return m;
}

hc::connection_info info() {
    hc::connection_info c;
    c.id = hc::name_uuid("test connection");
    c.schema = "salesforce";
    c.api_version = "60.0";
    c.ordered_writes = true;
    c.base_url = "http://127.0.0.1:9090";
    mappings::mapping account;
    account.object_name = "Account";
    account.fields = {{"Id", json_value::object{}}, {"Name", json_value::object{}}};
    c.file.mappings = {account, contact_mapping()};
    return c;
}

status_snapshot running() {
    status_snapshot s;
    s.starting = false;
    s.has_writeback = true;
    mapping_snapshot a;
    a.object = "Account";
    a.loaded = true;
    mapping_snapshot c;
    c.object = "Contact";
    c.read_write = true;
    c.loaded = true;
    s.mappings = {a, c};
    return s;
}

json_value parse(const std::string& text) {
    std::string error;
    auto v = mappings::parse_json(text, error);
    INFO(error << "\n" << text);
    REQUIRE(v);
    return *v;
}

const json_value& at(const json_value& v, const std::string& key) {
    const auto* o = v.as_object();
    REQUIRE(o != nullptr);
    const auto it = o->find(key);
    INFO("key " << key);
    REQUIRE(it != o->end());
    return it->second;
}

bool has(const json_value& v, const std::string& key) {
    const auto* o = v.as_object();
    return o != nullptr && o->count(key) > 0;
}

std::string str(const json_value& v) {
    REQUIRE(v.as_string() != nullptr);
    return *v.as_string();
}

} // namespace

TEST_CASE("hc api: routes are the paths and methods Heroku Connect's clients use") {
    auto r = hc::parse_route(http::verb::get, "/api/v3/connections?app=my-app&deep=True");
    CHECK(r.kind == hc::route_kind::connection_list);
    CHECK(r.app == "my-app");
    CHECK(r.deep); // Python's requests writes True
    r = hc::parse_route(http::verb::get, "/api/v3/connections/abc?deep=False");
    CHECK(r.kind == hc::route_kind::connection);
    CHECK(r.id == "abc");
    CHECK_FALSE(r.deep);
    CHECK(hc::parse_route(http::verb::get, "/api/v3/connections/abc?deep=true").deep);
    CHECK(hc::parse_route(http::verb::post, "/api/v3/connections/abc/actions/import").kind ==
          hc::route_kind::import_mappings);
    CHECK(hc::parse_route(http::verb::get, "/api/v3/connections/abc/actions/export").kind ==
          hc::route_kind::export_mappings);
    r = hc::parse_route(http::verb::post, "/api/v3/mappings/m1/actions/reload");
    CHECK(r.kind == hc::route_kind::reload_mapping);
    CHECK(r.id == "m1");
    CHECK(hc::parse_route(http::verb::get, "/api/v3/mappings/m1").kind == hc::route_kind::mapping);
    r = hc::parse_route(http::verb::get, "/connections?app=a%20b+c");
    CHECK(r.kind == hc::route_kind::discovery);
    CHECK(r.app == "a b c");
    r = hc::parse_route(http::verb::post, "/auth/my-app");
    CHECK(r.kind == hc::route_kind::discovery_auth);
    CHECK(r.app == "my-app");

    SECTION("a wrong method names the right one") {
        r = hc::parse_route(http::verb::get, "/api/v3/connections/abc/actions/import");
        CHECK(r.kind == hc::route_kind::method_not_allowed);
        CHECK(r.allow == "POST");
        CHECK(hc::parse_route(http::verb::delete_, "/api/v3/connections").kind ==
              hc::route_kind::method_not_allowed);
    }
    SECTION("Heroku Connect's paths sfbridge does not serve are told apart from its own") {
        CHECK(hc::parse_route(http::verb::patch, "/api/v3/connections/abc").kind ==
              hc::route_kind::not_offered);
        CHECK(hc::parse_route(http::verb::delete_, "/api/v3/mappings/m1").kind ==
              hc::route_kind::not_offered);
        CHECK(hc::parse_route(http::verb::post, "/api/v3/connections/abc/actions/pause").kind ==
              hc::route_kind::not_offered);
        CHECK(hc::parse_route(http::verb::get, "/status").kind == hc::route_kind::none);
        CHECK(hc::parse_route(http::verb::get, "/metrics").kind == hc::route_kind::none);
        CHECK(hc::parse_route(http::verb::get, "/").kind == hc::route_kind::none);
    }
}

TEST_CASE("hc api: a configured app id is given where herokux reads it, and UUIDs are checked") {
    auto c = info();
    CHECK_FALSE(has(parse(hc::connection_json(c, running(), "", false, false)), "app_id"));
    c.app_id = "0d4b6d6a-1b1e-4c3e-9a57-2f3d9e1c0b11";
    CHECK(str(at(parse(hc::connection_json(c, running(), "", false, false)), "app_id")) ==
          c.app_id);
    const auto auth = parse(hc::discovery_json(c, "my-app", true));
    CHECK(str(at(at(auth, "connections").as_array()->at(0), "app_id")) == c.app_id);
    CHECK(hc::is_uuid(c.app_id));
    CHECK(hc::is_uuid(hc::name_uuid("x")));
    CHECK_FALSE(hc::is_uuid("0d4b6d6a-1b1e-4c3e-9a57-2f3d9e1c0b1"));
    CHECK_FALSE(hc::is_uuid("0d4b6d6a+1b1e-4c3e-9a57-2f3d9e1c0b11"));
    CHECK_FALSE(hc::is_uuid("0d4b6d6a-1b1e-4c3e-9a57-2f3d9e1c0b1g"));
}

TEST_CASE("hc api: ids are name-based UUIDs (version 5), stable and distinct") {
    // Python: uuid.uuid5(uuid.NAMESPACE_URL, 'http://python.org/')
    CHECK(hc::name_uuid("http://python.org/") == "4c565f0d-3f5a-5890-b41b-20cf47701c5e");
    CHECK(hc::name_uuid("") == "1b4db7eb-4057-5ddf-91e0-36dec72071f5");
    const auto c = info();
    CHECK(hc::mapping_id(c, "Contact") == hc::mapping_id(c, "contact"));
    CHECK(hc::mapping_id(c, "Contact") != hc::mapping_id(c, "Account"));
    CHECK(hc::object_of_mapping(c, hc::mapping_id(c, "Contact")) == "Contact");
    CHECK(hc::object_of_mapping(c, "nope").empty());
}

TEST_CASE("hc api: the connection has the fields and types the clients decode") {
    const auto c = info();
    auto s = running();
    const auto list = parse(hc::connection_list_json(c, s, "my-app", false, false));
    CHECK(*at(list, "count").as_int() == 1);
    const auto& conn = at(list, "results").as_array()->at(0);
    CHECK(str(at(conn, "id")) == c.id);
    CHECK(str(at(conn, "addon_id")) == c.id); // herokux compares them
    CHECK(str(at(conn, "app_name")) == "my-app");
    CHECK(str(at(conn, "schema_name")) == "salesforce");
    CHECK(str(at(conn, "state")) == "IDLE");
    CHECK(*at(at(conn, "features"), "poll_db_no_merge").as_bool());
    CHECK(str(at(conn, "name")).size() > 0);
    CHECK_FALSE(has(conn, "mappings")); // only when deep

    const auto deep = parse(hc::connection_json(c, s, "", true, false));
    const auto* ms = at(deep, "mappings").as_array();
    REQUIRE(ms != nullptr);
    REQUIRE(ms->size() == 2);
    const auto& contact = ms->at(1);
    CHECK(str(at(contact, "object_name")) == "Contact");
    CHECK(str(at(contact, "id")) == hc::mapping_id(c, "Contact"));
    CHECK(str(at(contact, "state")) == "DATA_SYNCED");
    CHECK(str(at(contact, "access")) == "read_write");
    CHECK(*at(contact, "sf_polling_seconds").as_int() == 600);
    CHECK(*at(contact, "sf_notify_enabled").as_bool());
    CHECK_FALSE(*at(contact, "actively_writing").as_bool());
    const auto& config = at(contact, "config");
    CHECK(str(at(config, "access")) == "read_write");
    CHECK(at(config, "fields").as_object()->count("LastName") == 1);
    CHECK(has(config, "indexes"));
    CHECK_FALSE(has(contact, "counts")); // not known: left out rather than made up

    SECTION("the write mode follows SFBRIDGE_WRITE_ALGORITHM") {
        auto merged = c;
        merged.ordered_writes = false;
        const auto v = parse(hc::connection_json(merged, s, "", false, false));
        CHECK_FALSE(*at(at(v, "features"), "poll_db_no_merge").as_bool());
    }
    SECTION("writes waiting make the connection POLLING_DB_CHANGES and the mapping writing") {
        s.writes.queue_counted_ms = 1;
        s.writes.queue["Contact"].fresh = 2;
        const auto v = parse(hc::connection_json(c, s, "", true, false));
        CHECK(str(at(v, "state")) == "POLLING_DB_CHANGES");
        CHECK(*at(at(v, "mappings").as_array()->at(1), "actively_writing").as_bool());
    }
}

TEST_CASE("hc api: connection and mapping states") {
    auto s = running();
    CHECK(hc::connection_state(s, true) == "IMPORT_CONFIGURATION");
    s.starting = true;
    CHECK(hc::connection_state(s, false) == "BUSY");
    s.starting = false;
    s.dead_loops = {"stream"};
    CHECK(hc::connection_state(s, false) == "SYSTEM_ERROR");

    mapping_snapshot m;
    CHECK(hc::mapping_state(m) == "INITIAL");
    m.load_attempts = 2;
    CHECK(hc::mapping_state(m) == "SYSTEM_ERROR");
    m.loaded = true;
    CHECK(hc::mapping_state(m) == "DATA_SYNCED");
    m.reloading = true;
    CHECK(hc::mapping_state(m) == "RELOAD_TABLE");

    // Not in the snapshot yet (the process is starting): its first load is ahead.
    auto c = info();
    status_snapshot starting;
    const auto v = parse(hc::connection_json(c, starting, "", true, false));
    CHECK(str(at(at(v, "mappings").as_array()->at(0), "state")) == "INITIAL");
}

TEST_CASE("hc api: discovery points at this endpoint as hc-central does") {
    const auto c = info();
    const auto search = parse(hc::discovery_json(c, "my-app", false));
    const auto& e = at(search, "results").as_array()->at(0);
    CHECK(str(at(e, "id")) == c.id);
    CHECK(str(at(e, "app_name")) == "my-app");
    CHECK(str(at(e, "region_url")) == "http://127.0.0.1:9090"); // no slash: clients append
    CHECK(str(at(e, "detail_url")) == "http://127.0.0.1:9090/api/v3/connections/" + c.id);
    const auto auth = parse(hc::discovery_json(c, "my-app", true));
    CHECK(str(at(at(auth, "connections").as_array()->at(0), "id")) == c.id);
}

TEST_CASE("hc api: the export is the mapping file with a connection block") {
    const auto c = info();
    const auto text = hc::export_json(c, "my-app", 1'700'000'000'000);
    std::vector<std::string> errors;
    auto back = mappings::read_mapping_file(text, errors);
    REQUIRE(back);
    REQUIRE(back->connection);
    CHECK(str(at(*back->connection, "app_name")) == "my-app");
    CHECK(str(at(*back->connection, "exported_at")) == "2023-11-14T22:13:20.000Z");
    back->connection.reset();
    CHECK(*back == c.file); // what herokux compares, the connection block aside
}

TEST_CASE("hc api: an import replaces and adds mappings, and removes none") {
    const auto c = info();
    mappings::mapping_file imported;
    auto contact = contact_mapping();
    contact.fields["Email"] = json_value::object{};
    mappings::mapping lead;
    lead.object_name = "Lead";
    lead.fields = {{"Id", json_value::object{}}};
    imported.mappings = {lead, contact};
    imported.connection = json_value(json_value::object{{"app_name", json_value("x")}});
    const auto merged = hc::merge_import(c.file, imported);
    REQUIRE(merged.mappings.size() == 3);
    CHECK(merged.mappings[0].object_name == "Account");
    CHECK(merged.mappings[1].fields.count("Email") == 1);
    CHECK(merged.mappings[2].object_name == "Lead");
    CHECK_FALSE(merged.connection); // the file keeps its own
    CHECK(hc::merge_import(c.file, mappings::mapping_file{}) == c.file);
}

TEST_CASE("hc api: URLs are built from the request's Host, and only a clean one") {
    net::request req{http::verb::get, "/connections", 11};
    req.set(http::field::host, "sfbridge.internal:9090");
    CHECK(hc::base_url(req) == "http://sfbridge.internal:9090");
    req.set("X-Forwarded-Proto", "https, http");
    CHECK(hc::base_url(req) == "https://sfbridge.internal:9090");
    req.set(http::field::host, "evil.example/\"><script>");
    CHECK(hc::base_url(req) == "https://127.0.0.1");
}

TEST_CASE("hc api: errors are {\"message\": ...}") {
    const auto r = hc::error_reply(http::status::not_found, "no mapping \"x\"");
    CHECK(r.result() == http::status::not_found);
    CHECK(str(at(parse(r.body()), "message")) == "no mapping \"x\"");
    CHECK(r[http::field::content_type] == "application/json");
}
