#pragma once

#include "net/http_server.hpp"
#include "sim/auth.hpp"
#include "sim/bulk.hpp"
#include "sim/cometd_server.hpp"
#include "sim/faults.hpp"
#include "sim/org.hpp"
#include "sim/rest.hpp"
#include "sim/schema.hpp"
#include "sim/streaming.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

// sfsim: the Salesforce simulator, in-process (tests start it on a free port) or as the sfsim
// executable. One Asio thread, in-memory data.
namespace sfbridge::sim {

struct simulator_config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;    // 0: a free port
    std::string tls_cert_file; // both set: HTTPS
    std::string tls_key_file;
    std::string schema_dir = SFSIM_SCHEMA_DIR;
    std::vector<std::string> schema_files; // added to (or replacing objects of) schema_dir
    int synthetic_objects = 0;             // Sim_Object_<i>__c, i = 1..N (sim/synthetic.hpp)
    std::uint64_t seed = 1;
    auth_config auth;
    cometd_config cometd;
    retention_config retention;
    long api_daily_limit = 100000;
};

class simulator {
public:
    simulator(asio::any_io_executor ex, simulator_config cfg);
    ~simulator();
    simulator(const simulator&) = delete;
    simulator& operator=(const simulator&) = delete;

    // Binds and serves. Throws on a bad address or certificate (start-up errors).
    void start();
    void stop();
    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] std::string base_url() const;

    [[nodiscard]] org& data() noexcept { return *data_; }
    [[nodiscard]] auth& tokens() noexcept { return *auth_; }
    [[nodiscard]] streaming& streams() noexcept { return *streams_; }
    [[nodiscard]] cometd_server& cometd() noexcept { return *cometd_; }
    [[nodiscard]] fault_settings& faults() noexcept { return faults_; }
    [[nodiscard]] api_usage& usage() noexcept { return usage_; }
    // Starts a generator as POST /__sim/generate does, from the same JSON (sfsim --generate,
    // after start()). Throws std::invalid_argument with the reason on bad settings.
    void generate_from(const std::string& settings_json);
    // Closes every open HTTP connection at once.
    void drop_connections();
    void reset();

private:
    asio::awaitable<std::optional<response>> handle(request& req, const net::peer_info& peer);
    asio::awaitable<std::optional<response>> control(request& req, std::string_view path,
                                                     std::string_view query_string);
    // The control API's handlers, one per endpoint group (simulator_control.cpp, the
    // generators' in simulator_generate.cpp).
    response control_stats();
    response control_oauth(std::string_view action);
    response control_inject(const request& req);
    response control_fault_action(std::string_view action);
    response control_fault_settings(const request& req);
    response control_cometd(const request& req);
    response control_clock(const request& req);
    response control_limits(const request& req); // simulator_org_settings.cpp
    response control_cdc(const request& req);
    response control_schema(const request& req, const std::vector<std::string>& seg);
    response control_validation_rules(const request& req);
    response control_records(const request& req, const std::vector<std::string>& seg,
                             std::string_view query_string);
    response remove_records(const object_def& o, std::string_view list, const write_options& wo);
    response write_records(const request& req, const object_def& o, const write_options& wo);
    response generator_status(std::string_view job_text);
    response start_generator(const request& req);
    asio::awaitable<void> generate(std::string object, std::string kind, long count, double rate,
                                   bool bulk, std::string stamp_field, std::uint64_t job);
    response services(request& req, std::string_view path, std::string_view query_string);

    asio::any_io_executor ex_;
    simulator_config cfg_;
    schema schema_;
    std::unique_ptr<org> data_;
    std::unique_ptr<auth> auth_;
    std::unique_ptr<streaming> streams_;
    std::unique_ptr<cometd_server> cometd_;
    std::unique_ptr<rest_api> rest_;
    std::unique_ptr<bulk_api> bulk_;
    api_usage usage_;
    fault_settings faults_;
    std::optional<asio::ssl::context> tls_;
    std::unique_ptr<net::http_server> server_;
    std::mt19937_64 rng_;
    struct generator_state {
        long done = 0;
        long failed = 0;
        long total = 0;
        bool finished = false;
        std::string error;
    };
    std::map<std::uint64_t, generator_state> generators_;
    std::uint64_t generator_seq_ = 0;
    bool stopped_ = false;
};

} // namespace sfbridge::sim
