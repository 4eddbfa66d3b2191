// The simulator: its set-up, its HTTP front (control API, faults, Bayeux, OAuth and the
// /services/data APIs) and the API limits. The control API is in simulator_control.cpp, the
// generators of record changes in simulator_generate.cpp.
#include "sim/simulator.hpp"

#include "core/log.hpp"
#include "sim/answer_faults.hpp"
#include "sim/synthetic.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sfbridge::sim {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

} // namespace

simulator::simulator(asio::any_io_executor ex, simulator_config cfg)
    : ex_(ex), cfg_(std::move(cfg)), rng_(cfg_.seed) {
    schema_.load_directory(cfg_.schema_dir);
    for (const auto& f : cfg_.schema_files)
        schema_.load_file(f);
    add_synthetic_objects(schema_, cfg_.synthetic_objects);
    if (!schema_.find("PushTopic"))
        throw std::runtime_error("sfsim: the schema has no PushTopic object");
    data_ = std::make_unique<org>(schema_, cfg_.seed);
    auth_ = std::make_unique<auth>(cfg_.auth, data_->org_id(), data_->user_id(),
                                   [this] { return data_->now_ms(); });
    streams_ = std::make_unique<streaming>(*data_, cfg_.retention, cfg_.seed);
    cometd_ = std::make_unique<cometd_server>(ex_, *streams_, *auth_, cfg_.cometd, cfg_.seed);
    rest_ = std::make_unique<rest_api>(*data_, usage_);
    bulk_ = std::make_unique<bulk_api>(*data_, faults_);
    usage_.max = cfg_.api_daily_limit;
    data_->set_lock_check([this](std::string_view id) {
        if (faults_.locked_ids.count(std::string(id)))
            return true;
        return faults_.lock_share > 0 &&
               std::uniform_real_distribution<double>(0, 1)(rng_) < faults_.lock_share;
    });
}

simulator::~simulator() {
    stop();
}

void simulator::start() {
    if (!cfg_.tls_cert_file.empty() || !cfg_.tls_key_file.empty()) {
        tls_.emplace(asio::ssl::context::tls_server);
        tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1);
        tls_->use_certificate_chain_file(cfg_.tls_cert_file);
        tls_->use_private_key_file(cfg_.tls_key_file, asio::ssl::context::pem);
    }
    server_ = std::make_unique<net::http_server>(
        ex_, [this](request& req, const net::peer_info& peer) { return handle(req, peer); },
        tls_ ? &*tls_ : nullptr);
    server_->listen({asio::ip::make_address(cfg_.host), cfg_.port});
}

void simulator::stop() {
    if (stopped_)
        return;
    stopped_ = true;
    faults_ = {};
    if (cometd_)
        cometd_->stop();
    if (server_)
        server_->stop();
}

std::uint16_t simulator::port() const {
    return server_->port();
}

std::string simulator::base_url() const {
    const std::string host =
        cfg_.host.find(':') != std::string::npos ? "[" + cfg_.host + "]" : cfg_.host;
    return std::string(tls_ ? "https://" : "http://") + host + ":" + std::to_string(port());
}

void simulator::drop_connections() {
    if (server_)
        server_->drop_all_connections();
}

void simulator::reset() {
    data_->reset();
    streams_->reset();
    cometd_->forget_all_clients();
    rest_->reset();
    bulk_->reset();
    usage_.used = 0;
    faults_ = {};
}

asio::awaitable<std::optional<response>> simulator::handle(request& req,
                                                           const net::peer_info& peer) {
    const auto [path, query_string] = split_target(req.target());
    if (path.starts_with("/__sim/") || path == "/__sim") {
        // The control API is for the machine the simulator runs on.
        if (!peer.remote.address().is_loopback())
            co_return control_error(http::status::forbidden, "the control API is loopback-only");
        co_return co_await control(req, path, query_string);
    }

    if (faults_.reset_connections)
        co_return std::nullopt;
    if (faults_.stall) {
        asio::steady_timer t(ex_);
        while (faults_.stall && !stopped_) {
            t.expires_after(std::chrono::milliseconds(20));
            (void)co_await t.async_wait(use_tuple);
        }
        if (stopped_)
            co_return std::nullopt;
    }
    if (faults_.delay.count() > 0) {
        asio::steady_timer t(ex_, faults_.delay);
        (void)co_await t.async_wait(use_tuple);
    }
    if (faults_.unavailable || (faults_.fail_share > 0 && std::uniform_real_distribution<double>(
                                                              0, 1)(rng_) < faults_.fail_share)) {
        if (path.starts_with("/cometd"))
            co_return json_response(
                http::status::service_unavailable,
                R"([{"error":"503::Server is too busy. Please try your request again later.","successful":false}])");
        co_return rest_error(http::status::service_unavailable, "SERVER_UNAVAILABLE",
                             "Server is too busy. Please try your request again later.");
    }

    // Answer faults are decided before the request is applied (the body is still there) and
    // act on its answer after.
    const auto about = classify_request(path, query_string, req.body(), schema_);
    answer_fault after = faults_.after_apply;
    const bool faulted = takes(faults_.after_apply, about);
    std::optional<response> res;
    if (path.starts_with("/cometd"))
        res = co_await cometd_->handle(req, path.substr(7));
    else if (path == "/services/oauth2/token")
        res = auth_->token_endpoint(req, base_url());
    else
        res = services(req, path, query_string);
    if (res) // Salesforce's own clock, which clients may compare with theirs
        res->set(http::field::date, http_date(data_->now_ms()));
    if (!faulted || !res)
        co_return res;
    switch (after.what) {
    case answer_fault::action::drop:
        co_return std::nullopt;
    case answer_fault::action::status:
        co_return fault_answer(after.status);
    case answer_fault::action::delay: {
        asio::steady_timer t(ex_, after.delay);
        (void)co_await t.async_wait(use_tuple);
        if (stopped_)
            co_return std::nullopt;
        co_return res;
    }
    case answer_fault::action::none:
        break;
    }
    co_return res;
}

response simulator::services(request& req, std::string_view path, std::string_view query_string) {
    const auto seg = path_segments(path);
    if (seg.size() < 2 || seg[0] != "services" || seg[1] != "data")
        return rest_error(http::status::not_found, "NOT_FOUND",
                          "The requested resource does not exist");
    if (seg.size() == 2)
        return rest_api::versions(); // not counted, no limit header
    if (seg[2].size() < 2 || seg[2][0] != 'v')
        return rest_error(http::status::not_found, "NOT_FOUND",
                          "The requested resource does not exist");
    const std::string version = seg[2].substr(1);

    if (auth_->verify(bearer_token(req)) != auth::check::valid)
        return rest_error(http::status::unauthorized, "INVALID_SESSION_ID",
                          "Session expired or invalid");
    response res;
    if (usage_.used >= usage_.max) {
        res = rest_error(http::status::forbidden, "REQUEST_LIMIT_EXCEEDED",
                         "TotalRequests Limit exceeded.");
    } else {
        ++usage_.used;
        const std::vector<std::string> rest(seg.begin() + 3, seg.end());
        if (rest.size() >= 2 && rest[0] == "jobs" && rest[1] == "query")
            res = bulk_->handle(
                req, version, std::vector<std::string>(rest.begin() + 2, rest.end()), query_string);
        else
            res = rest_->handle(req, version, rest, query_string);
    }
    res.set("Sforce-Limit-Info",
            "api-usage=" + std::to_string(usage_.used) + "/" + std::to_string(usage_.max));
    return res;
}

} // namespace sfbridge::sim
