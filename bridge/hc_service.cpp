#include "bridge/hc_service.hpp"

#include "bridge/http_api.hpp"
#include "bridge/provision.hpp"
#include "bridge/state_sql.hpp"
#include "core/calendar.hpp"
#include "core/log.hpp"
#include "core/replace_file.hpp"
#include "pg/connection.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace sfbridge::bridge {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {
bool read_text(const std::string& path, std::string& out) {
    std::ifstream in(path);
    if (!in)
        return false;
    std::stringstream text;
    text << in.rdbuf();
    out = text.str();
    return true;
}
} // namespace

std::string previous_mappings_path(const std::string& path) {
    return path + ".sfbridge-previous";
}

bool restore_previous_mappings(const std::string& path) {
    const auto previous = previous_mappings_path(path);
    std::string text, error;
    if (!read_text(previous, text))
        return false;
    if (!replace_file(path, text, error)) {
        log::error("sfbridge", "the previous mapping file could not be put back",
                   {{"error", error}});
        return false;
    }
    std::remove(previous.c_str()); // once: a second failure is not rolled back again
    return true;
}

void forget_previous_mappings(const std::string& path) {
    std::remove(previous_mappings_path(path).c_str());
}

hc_service::hc_service(asio::any_io_executor ex, hc_service_options o,
                       std::function<salesforce::rest_client*()> rest,
                       std::function<void()> restart)
    : ex_(std::move(ex)), opts_(std::move(o)), rest_(std::move(rest)),
      restart_(std::move(restart)) {}

bool hc_service::importing(const status_snapshot& s) const {
    return import_in_progress_ || (opts_.applying_import && s.starting);
}

asio::awaitable<std::optional<net::response>> hc_service::handle(const net::request& req,
                                                                 const status_snapshot& s) {
    const auto r = hc::parse_route(req.method(), req.target());
    if (r.kind == hc::route_kind::none)
        co_return std::nullopt;
    auto c = opts_.connection;
    c.base_url = hc::base_url(req);
    // (Not inside ?:, where GCC 12 would evaluate the co_await either way.)
    auto out = refusal(r, req, c);
    if (!out)
        out = co_await serve(r, req, c, s);
    // Connections close at an import's restart: a client must not send its next request on one
    // (Python's requests would not retry it), so none is kept open meanwhile.
    if (import_in_progress_)
        out->keep_alive(false);
    co_return out;
}

std::optional<net::response> hc_service::refusal(const hc::route& r, const net::request& req,
                                                 const hc::connection_info& c) const {
    if (!authorized(req[http::field::authorization], opts_.token)) {
        auto out = hc::error_reply(http::status::unauthorized, "a bearer token is needed");
        out.set(http::field::www_authenticate, "Bearer");
        return out;
    }
    const bool changes =
        r.kind == hc::route_kind::import_mappings || r.kind == hc::route_kind::reload_mapping;
    if (changes && opts_.token.empty())
        return hc::error_reply(http::status::forbidden,
                               "set SFBRIDGE_HTTP_TOKEN to allow imports and reloads through "
                               "the API: without a token, anyone who reaches the endpoint "
                               "could rewrite the mapping file");
    if (r.kind == hc::route_kind::method_not_allowed) {
        auto out = hc::error_reply(http::status::method_not_allowed,
                                   "this path answers " + r.allow + " only");
        out.set(http::field::allow, r.allow);
        return out;
    }
    if (r.kind == hc::route_kind::not_offered) {
        const std::string_view path = req.target().substr(0, req.target().find('?'));
        return hc::error_reply(
            http::status::not_found,
            "sfbridge does not serve " + std::string(req.method_string()) + " " +
                std::string(path.substr(0, 200)) +
                " of Heroku Connect's API (docs/heroku-connect-api.md lists what it serves)");
    }
    const bool connection_route = r.kind == hc::route_kind::connection ||
                                  r.kind == hc::route_kind::import_mappings ||
                                  r.kind == hc::route_kind::export_mappings;
    if (connection_route && r.id != c.id)
        return hc::error_reply(http::status::not_found, "no connection " + r.id.substr(0, 64) +
                                                            " (this one is " + c.id + ")");
    const bool mapping_route =
        r.kind == hc::route_kind::mapping || r.kind == hc::route_kind::reload_mapping;
    if (mapping_route && hc::object_of_mapping(c, r.id).empty())
        return hc::error_reply(http::status::not_found, "no mapping " + r.id.substr(0, 64));
    return std::nullopt;
}

asio::awaitable<net::response> hc_service::serve(const hc::route& r, const net::request& req,
                                                 const hc::connection_info& c,
                                                 const status_snapshot& s) {
    const bool busy = importing(s);
    switch (r.kind) {
    case hc::route_kind::discovery:
        co_return hc::json_reply(http::status::ok, hc::discovery_json(c, r.app, false));
    case hc::route_kind::discovery_auth:
        co_return hc::json_reply(http::status::ok, hc::discovery_json(c, r.app, true));
    case hc::route_kind::connection_list:
        co_return hc::json_reply(http::status::ok,
                                 hc::connection_list_json(c, s, r.app, r.deep, busy));
    case hc::route_kind::connection:
        co_return hc::json_reply(http::status::ok, hc::connection_json(c, s, r.app, r.deep, busy));
    case hc::route_kind::export_mappings:
        co_return hc::json_reply(http::status::ok, hc::export_json(c, r.app, calendar::now_ms()));
    case hc::route_kind::mapping:
        co_return hc::json_reply(http::status::ok,
                                 hc::mapping_json(c, s, hc::object_of_mapping(c, r.id)));
    case hc::route_kind::reload_mapping: {
        const in_flight guard(*this);
        co_return co_await reload_mapping(hc::object_of_mapping(c, r.id));
    }
    case hc::route_kind::import_mappings: {
        const in_flight guard(*this);
        co_return co_await import_mappings(req, s);
    }
    default:
        co_return hc::error_reply(http::status::not_found, "no such path");
    }
}

// As `sfbridge reload` does: recorded in _sfbridge_state, so that the reload happens even when
// the process stops first; the control loop starts it within 2 seconds.
asio::awaitable<net::response> hc_service::reload_mapping(const std::string& object) {
    if (stopping_) // nothing new that waits on the network once the process stops
        co_return hc::error_reply(http::status::service_unavailable, "sfbridge is stopping");
    pg::connection conn(ex_);
    pg::diagnostics d;
    pg::result r;
    auto ec = co_await conn.async_connect(opts_.database_url, d);
    if (!ec)
        ec = co_await conn.async_query(state_sql::request_reload(opts_.connection.schema),
                                       pg::params(object), r, d);
    conn.close();
    if (ec)
        co_return hc::error_reply(http::status::service_unavailable,
                                  "the reload could not be recorded: " + d.summary());
    if (r.affected_rows() == 0)
        co_return hc::error_reply(http::status::conflict,
                                  "mapping " + object + " has not been set up yet");
    log::info("http", "reload requested through Heroku Connect's API", {{"mapping", object}});
    co_return hc::json_reply(http::status::accepted, "");
}

void hc_service::request_ended() {
    if (--in_flight_ == 0 && stopping_ && on_idle_)
        asio::post(ex_, on_idle_);
}

// The file as it is on disk now (an operator may have edited it since the start), or as it was
// read at the start when it cannot be read now; with its text, kept byte for byte for a
// rollback.
hc_service::mapping_file_on_disk hc_service::current_file() const {
    mapping_file_on_disk out;
    std::vector<std::string> errors;
    std::optional<mappings::mapping_file> f;
    if (read_text(opts_.mappings_path, out.text))
        f = mappings::read_mapping_file(out.text, errors);
    out.file = f ? *f : opts_.connection.file;
    if (!f)
        out.text = mappings::write_mapping_file(out.file);
    return out;
}

asio::awaitable<net::response> hc_service::import_mappings(const net::request& req,
                                                           const status_snapshot& s) {
    if (import_in_progress_)
        co_return hc::error_reply(http::status::conflict, "an import is being applied");
    if (s.starting || s.stopping || stopping_)
        co_return hc::error_reply(http::status::service_unavailable,
                                  s.starting ? "sfbridge is starting; import again once it runs"
                                             : "sfbridge is stopping");
    std::vector<std::string> errors;
    const auto imported = mappings::read_mapping_file(req.body(), errors);
    const auto refuse = [](std::string head, const std::vector<std::string>& why) {
        for (const auto& e : why)
            head += "\n" + e;
        return hc::error_reply(http::status::bad_request, head);
    };
    if (!imported)
        co_return refuse("the mapping file is not usable:", errors);
    const auto disk = current_file();
    const auto& current = disk.file;
    const auto merged = hc::merge_import(current, *imported);
    const std::string text = mappings::write_mapping_file(merged);
    if (text == mappings::write_mapping_file(current) && current == opts_.connection.file) {
        log::info("http", "import through Heroku Connect's API: no mapping changed");
        co_return hc::json_reply(http::status::accepted, "");
    }
    auto* rest = rest_();
    if (rest == nullptr)
        co_return hc::error_reply(http::status::service_unavailable,
                                  "sfbridge is starting; import again once it runs");
    // Until the restart is on its way: a failure (or an exception) lets the next import in.
    import_in_progress_ = true;
    struct reset {
        bool& flag;
        bool dismissed = false;
        ~reset() {
            if (!dismissed)
                flag = false;
        }
    } guard{import_in_progress_};
    resolution res;
    salesforce::diagnostics d;
    // Validation only: the running mappings keep their API budgets until the restart.
    const auto ec = co_await describe_and_resolve(*rest, merged, res, d, false);
    if (stopping_) // a SIGTERM meanwhile: nothing is written, nothing applied
        co_return hc::error_reply(http::status::service_unavailable,
                                  "sfbridge is stopping; the import was not applied");
    if (ec)
        co_return hc::error_reply(http::status::bad_gateway, "the describe of " +
                                                                 res.failed_object +
                                                                 " failed: " + d.summary());
    if (!res.errors.empty())
        co_return refuse("the mappings do not fit the org:", res.errors);
    std::string error;
    // The file as it was is kept beside it: a start that fails on the new one goes back to it.
    if (opts_.mappings_path.empty() ||
        !replace_file(previous_mappings_path(opts_.mappings_path), disk.text, error) ||
        !replace_file(opts_.mappings_path, text, error))
        co_return hc::error_reply(http::status::conflict,
                                  "the mapping file cannot be rewritten, so the import cannot be "
                                  "applied: " +
                                      error);
    std::string names;
    for (const auto& m : imported->mappings)
        names += (names.empty() ? "" : ",") + m.object_name;
    log::info("http",
              "import through Heroku Connect's API: mapping file rewritten; restarting on it",
              {{"file", opts_.mappings_path}, {"mappings", names}});
    guard.dismissed = true;
    // After this answer: the server writes it before the drain ends (bridge/run_lifecycle).
    asio::post(ex_, restart_);
    co_return hc::json_reply(http::status::accepted, "");
}

} // namespace sfbridge::bridge
