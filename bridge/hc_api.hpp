#pragma once

#include "bridge/status_snapshot.hpp"
#include "mappings/mapping_file.hpp"
#include "net/http_server.hpp"

#include <string>
#include <string_view>
#include <vector>

// The subset of Heroku Connect's platform API (v3) that its client libraries call, pure: what a
// request asks for, and the answers, shaped as Heroku Connect's (docs/heroku-connect-api.md
// lists the paths, the fields and where each comes from). One sfbridge process is one
// connection; whatever app a client names, it is this one. bridge/hc_service does the I/O.
namespace sfbridge::bridge::hc {

enum class route_kind {
    none,            // not an API path: the rest of the endpoint answers
    discovery,       // GET /connections (hc-central's search)
    discovery_auth,  // POST /auth/<app> (hc-central's access request)
    connection_list, // GET /api/v3/connections
    connection,      // GET /api/v3/connections/<id>
    import_mappings, // POST /api/v3/connections/<id>/actions/import
    export_mappings, // GET /api/v3/connections/<id>/actions/export
    reload_mapping,  // POST /api/v3/mappings/<id>/actions/reload
    mapping,         // GET /api/v3/mappings/<id>
    method_not_allowed,
    not_offered, // an API path of Heroku Connect's that sfbridge does not serve
};

struct route {
    route_kind kind = route_kind::none;
    std::string id;  // the connection's or the mapping's, as in the path
    std::string app; // ?app=, when given
    bool deep = false;
    std::string allow; // for method_not_allowed
};

[[nodiscard]] route parse_route(boost::beast::http::verb method, std::string_view target);

// What the process is, fixed at start.
struct connection_info {
    std::string id;     // a UUID
    std::string app_id; // the Heroku app's UUID, when configured (herokux stores it)
    std::string schema;
    std::string api_version;
    bool ordered_writes = true; // SFBRIDGE_WRITE_ALGORITHM=ordered: features.poll_db_no_merge
    mappings::mapping_file file;
    // Set from a request: "http://host:port" (X-Forwarded-Proto and Host respected), no slash.
    std::string base_url;
};

// Heroku Connect's connection state for what the process is doing: IMPORT_CONFIGURATION while
// an import is applied (`importing`), BUSY while starting or stopping, SYSTEM_ERROR when a loop
// died, POLLING_DB_CHANGES while the app's writes wait, IDLE otherwise.
[[nodiscard]] std::string connection_state(const status_snapshot& s, bool importing);
// DATA_SYNCED once loaded, INITIAL during the first load, RELOAD_TABLE during a reload,
// SYSTEM_ERROR while a load fails.
[[nodiscard]] std::string mapping_state(const mapping_snapshot& m);

// Whether `text` is a UUID in its canonical form (8-4-4-4-12 hexadecimal digits).
[[nodiscard]] bool is_uuid(std::string_view text);

// A name-based UUID (version 5, SHA-1, RFC 9562) in the URL namespace: stable ids for the
// connection and its mappings across restarts.
[[nodiscard]] std::string name_uuid(std::string_view name);
[[nodiscard]] std::string mapping_id(const connection_info& c, std::string_view object_name);

// "http://127.0.0.1:9090" from the request's Host (and X-Forwarded-Proto, behind a proxy).
[[nodiscard]] std::string base_url(const net::request& req);

// GET /api/v3/connections: {"count":1,"results":[connection]}; the connection alone for one.
[[nodiscard]] std::string connection_list_json(const connection_info& c, const status_snapshot& s,
                                               std::string_view app, bool deep, bool importing);
[[nodiscard]] std::string connection_json(const connection_info& c, const status_snapshot& s,
                                          std::string_view app, bool deep, bool importing);
[[nodiscard]] std::string mapping_json(const connection_info& c, const status_snapshot& s,
                                       std::string_view object_name);
// hc-central's search answer ({"results":[entry],"count":1,...}) and access answer
// ({"connections":[entry],...}): where the connection's API is (region_url, detail_url).
[[nodiscard]] std::string discovery_json(const connection_info& c, std::string_view app,
                                         bool auth_answer);
// The export: the mapping file with a connection block as Heroku Connect writes it.
[[nodiscard]] std::string export_json(const connection_info& c, std::string_view app,
                                      std::int64_t now_ms);

// The object whose mapping has this id, or empty.
[[nodiscard]] std::string object_of_mapping(const connection_info& c, std::string_view id);

// An import is a patch: its mappings replace those of the same object and add the others;
// mappings it does not name stay (Heroku Connect's import deletes nothing). The current file's
// connection block and version stay.
[[nodiscard]] mappings::mapping_file merge_import(const mappings::mapping_file& current,
                                                  const mappings::mapping_file& imported);

// {"message": "..."}: the only error shape Heroku Connect's clients read.
[[nodiscard]] net::response error_reply(boost::beast::http::status st, std::string_view message);
[[nodiscard]] net::response json_reply(boost::beast::http::status st, std::string body);

} // namespace sfbridge::bridge::hc
