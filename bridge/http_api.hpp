#pragma once

#include "bridge/status_snapshot.hpp"
#include "net/http_server.hpp"

#include <string>

// The answers of sfbridge's HTTP endpoint (`sfbridge run --http`), pure: a request and a
// snapshot of the engine in, a response out. bridge/http_endpoint does the serving.
//   GET /healthz  200 while the process's loops run (draining after SIGTERM too); 503 once a
//                 loop that should run until the stop has ended (the orchestrator restarts it)
//   GET /readyz   200 once every mapping is loaded and every stream is connected; else 503,
//                 with a JSON body naming what is not ready
//   GET /status   per mapping as JSON (what `sfbridge status` prints, from the process itself)
//   GET /metrics  Prometheus's text format 0.0.4
// With a token set, every path but /healthz and /readyz needs "Authorization: Bearer <token>"
// (probes carry no secret). Nothing here shows a secret or record data.
namespace sfbridge::bridge {

struct http_api_options {
    std::string token; // empty: no authentication
};

[[nodiscard]] net::response answer(const net::request& req, const status_snapshot& s,
                                   const http_api_options& o);

// The parts, for tests.
[[nodiscard]] bool ready(const status_snapshot& s, std::string& json_body);
[[nodiscard]] std::string status_json(const status_snapshot& s);
[[nodiscard]] std::string metrics_text(const status_snapshot& s);
// Whether an Authorization header value carries the token (compared in constant time).
[[nodiscard]] bool authorized(std::string_view header, const std::string& token);

} // namespace sfbridge::bridge
