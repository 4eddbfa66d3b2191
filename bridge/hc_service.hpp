#pragma once

#include "bridge/hc_api.hpp"
#include "bridge/status_snapshot.hpp"
#include "net/http_server.hpp"
#include "salesforce/rest_client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>

// Heroku Connect's API on sfbridge's HTTP endpoint (bridge/hc_api shapes the answers): the
// connection and its mappings from the engine's snapshot; a mapping's reload through
// _sfbridge_state, as `sfbridge reload` does; and the import of a mapping file: validated
// against the org's describes, written over the file `--mappings` names, then applied by a
// restart of the process on the new file (the engine drains as on SIGTERM; the listening socket
// is kept, so clients polling the connection's state wait rather than being refused; the new
// start creates what is new and loads again what changed).
namespace sfbridge::bridge {

struct hc_service_options {
    std::string token; // SFBRIDGE_HTTP_TOKEN; empty: no authentication
    std::string database_url;
    std::string mappings_path;      // the file an import rewrites
    hc::connection_info connection; // base_url is filled per request
    // The process started again to apply an import: IMPORT_CONFIGURATION until the start ends.
    bool applying_import = false;
};

class hc_service {
public:
    // `rest` gives the org's client once the engine has logged in (null before); `restart`
    // drains the engine and starts the process again on the rewritten mapping file.
    hc_service(boost::asio::any_io_executor ex, hc_service_options o,
               std::function<salesforce::rest_client*()> rest, std::function<void()> restart);

    // The answer to an API request, or nullopt when the path is not one of the API's.
    boost::asio::awaitable<std::optional<net::response>> handle(const net::request& req,
                                                                const status_snapshot& s);

    // The process stops: imports are refused, and one validating is not applied.
    void stop() { stopping_ = true; }
    // An import or a reload is being handled.
    [[nodiscard]] bool busy() const noexcept { return in_flight_ > 0; }
    // Called (posted) when the last one ends after stop().
    void on_idle(std::function<void()> f) { on_idle_ = std::move(f); }

private:
    // The refusals that need no I/O: the token, the method, a path not served, an unknown id.
    [[nodiscard]] std::optional<net::response> refusal(const hc::route& r, const net::request& req,
                                                       const hc::connection_info& c) const;
    boost::asio::awaitable<net::response> serve(const hc::route& r, const net::request& req,
                                                const hc::connection_info& c,
                                                const status_snapshot& s);
    boost::asio::awaitable<net::response> import_mappings(const net::request& req,
                                                          const status_snapshot& s);
    struct mapping_file_on_disk {
        std::string text;
        mappings::mapping_file file;
    };
    [[nodiscard]] mapping_file_on_disk current_file() const;
    struct in_flight {
        explicit in_flight(hc_service& h) : self(h) { ++self.in_flight_; }
        ~in_flight() { self.request_ended(); }
        in_flight(const in_flight&) = delete;
        in_flight& operator=(const in_flight&) = delete;
        hc_service& self;
    };
    void request_ended();
    boost::asio::awaitable<net::response> reload_mapping(const std::string& object);
    [[nodiscard]] bool importing(const status_snapshot& s) const;

    boost::asio::any_io_executor ex_;
    hc_service_options opts_;
    std::function<salesforce::rest_client*()> rest_;
    std::function<void()> restart_;
    bool import_in_progress_ = false; // validating, writing, or draining for the restart
    bool stopping_ = false;
    int in_flight_ = 0;
    std::function<void()> on_idle_;
};

// An import keeps the mapping file it replaced beside it (FILE.sfbridge-previous). When the
// start on the imported file fails (the schema, a table, a PushTopic: what validation against
// the describes cannot foresee), that file is put back and the process restarts on it, once,
// rather than failing on every start; a start that succeeds forgets it.
[[nodiscard]] std::string previous_mappings_path(const std::string& path);
bool restore_previous_mappings(const std::string& path);
void forget_previous_mappings(const std::string& path);

} // namespace sfbridge::bridge
