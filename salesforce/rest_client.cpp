#include "salesforce/rest_client.hpp"

#include "core/backoff.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <simdjson.h>

#include <algorithm>

namespace sfbridge::salesforce {

namespace asio = boost::asio;
using boost::system::error_code;

struct rest_client::slot {
    std::unique_ptr<net::http_connection> conn;
    bool busy = false;
};

namespace {
std::string shorten(std::string_view s, std::size_t n = 160) {
    return s.size() <= n ? std::string(s) : std::string(s.substr(0, n)) + "...";
}

// Errors that prove the request never reached Salesforce, so resending cannot apply it twice.
bool never_sent(const error_code& ec) {
    return ec == net::errc::connect_failed || ec == net::errc::resolve_failed ||
           ec == net::errc::tls_failed || ec == net::errc::proxy_refused;
}
} // namespace

const call_options& default_call_options() noexcept {
    static const call_options none;
    return none;
}

rest_client::rest_client(asio::any_io_executor ex, rest_config cfg)
    : ex_(std::move(ex)), cfg_(std::move(cfg)), tls_(net::make_tls_context(cfg_.http)),
      auth_(ex_, cfg_.auth, cfg_.http, tls_), slot_freed_(ex_), renewed_(ex_),
      limit_(cfg_.limit_backoff_initial, cfg_.limit_backoff_max), rng_(std::random_device{}()) {
    // Both timers never expire: waiters wait on them, and cancel() wakes every waiter at once
    // (resetting the expiry in each waiter would cancel the others' waits).
    slot_freed_.expires_at(asio::steady_timer::time_point::max());
    renewed_.expires_at(asio::steady_timer::time_point::max());
}

rest_client::~rest_client() = default;

std::string rest_client::data_path(std::string_view rest) const {
    return "/services/data/v" + cfg_.api_version + std::string(rest);
}

asio::awaitable<error_code> rest_client::async_login(diagnostics& diag) {
    access_token t;
    auto ec = co_await auth_.async_login(t, diag);
    if (ec)
        co_return ec;
    std::string error;
    auto u = net::parse_url(t.instance_url, &error);
    if (!u) {
        diag.client_message = "the token endpoint gave an unusable instance_url: " + error;
        co_return errc::bad_response;
    }
    if (!instance_ || instance_->origin() != u->origin())
        for (auto& s : slots_)
            if (!s->busy)
                s->conn.reset(); // made again for the new instance on next use
    instance_ = *u;
    token_ = std::move(t);
    ++logins_;
    co_return error_code{};
}

asio::awaitable<rest_client::slot*> rest_client::acquire() {
    while (true) {
        for (auto& s : slots_)
            if (!s->busy) {
                s->busy = true;
                if (!s->conn || s->conn->origin().origin() != instance_->origin())
                    s->conn =
                        std::make_unique<net::http_connection>(ex_, *instance_, cfg_.http, tls_);
                co_return s.get();
            }
        if (slots_.size() < std::max<std::size_t>(1, cfg_.max_connections)) {
            slots_.push_back(std::make_unique<slot>());
            continue;
        }
        error_code ec;
        co_await slot_freed_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

void rest_client::release(slot* s) noexcept {
    s->busy = false;
    slot_freed_.cancel();
}

std::chrono::milliseconds rest_client::backoff_delay(int attempt) {
    // core's backoff, jittered so that many callers do not retry in step.
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    return sfbridge::backoff_delay({cfg_.backoff_initial, cfg_.backoff_max, 2.0, 0.25}, attempt,
                                   unit(rng_));
}

asio::awaitable<void> rest_client::backoff(int attempt) {
    asio::steady_timer t(ex_, backoff_delay(attempt));
    error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<error_code> rest_client::renew(const std::string& stale, diagnostics& diag) {
    if (token_.token != stale)
        co_return error_code{}; // another request renewed it already
    if (renewing_) {
        while (renewing_) {
            error_code ec;
            co_await renewed_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        diag = last_renew_diag_;
        co_return last_renew_error_;
    }
    renewing_ = true;
    diagnostics d;
    const auto ec = co_await async_login(d);
    renewing_ = false;
    last_renew_error_ = ec;
    last_renew_diag_ = d;
    renewed_.cancel();
    diag = d;
    co_return ec;
}

asio::awaitable<std::optional<std::string>> rest_client::streaming_token(bool refresh) {
    diagnostics diag;
    if (!instance_) {
        if (co_await async_login(diag))
            co_return std::nullopt;
    } else if (refresh) {
        if (co_await renew(token_.token, diag))
            co_return std::nullopt;
    }
    co_return token_.token;
}

asio::awaitable<error_code> rest_client::async_call(net::http::verb method, std::string target,
                                                    std::string body, rest_response& out,
                                                    diagnostics& diag, const call_options& opts) {
    diag.clear();
    if (!instance_) {
        auto ec = co_await async_login(diag);
        if (ec)
            co_return ec;
    }
    const bool idempotent = opts.idempotent.value_or(method != net::http::verb::post);
    const std::string what = std::string(net::http::to_string(method)) + " " + shorten(target);
    bool renewed = false;
    auto backing_off = [&] {
        diag.client_message = what + ": not sent, Salesforce's API request limit was "
                                     "exceeded and sfbridge is backing off";
        diag.error_code = "REQUEST_LIMIT_EXCEEDED";
        return errc::request_limit_exceeded;
    };
    for (int attempt = 1;; ++attempt) {
        diag.clear();
        if (limit_.blocked(std::chrono::steady_clock::now()))
            co_return backing_off();
        const auto day = api_usage::day_of(std::chrono::system_clock::now());
        if (!usage_.allow(opts.tag, day)) {
            diag.client_message = what + ": not sent, mapping " + opts.tag +
                                  " has used its daily API budget (sf_max_daily_api_calls)";
            co_return errc::daily_budget_exhausted;
        }
        net::header_list headers;
        const std::string used_token = token_.token;
        headers.emplace_back("Authorization", "Bearer " + used_token);
        headers.emplace_back("Accept", opts.accept);
        if (!body.empty())
            headers.emplace_back("Content-Type", opts.content_type);
        for (const auto& h : opts.headers)
            headers.push_back(h);

        slot* s = co_await acquire();
        // Looked at again: the backoff may have begun while this call waited for a connection.
        const auto sent = std::chrono::steady_clock::now();
        if (limit_.blocked(sent)) {
            release(s);
            co_return backing_off();
        }
        net::http_response resp;
        net::diagnostics nd;
        const auto ec = co_await s->conn->async_request(method, target, body, headers, resp, nd,
                                                        cfg_.request_timeout);
        release(s);
        usage_.record_call(opts.tag, day);
        if (ec) {
            diag.client_message = what + ": " + nd.summary();
            if (ec == net::condition::retryable && (idempotent || never_sent(ec)) &&
                attempt < cfg_.max_attempts) {
                ++retries_;
                ++retries_by_cause_["network"];
                co_await backoff(attempt);
                continue;
            }
            if (!idempotent && !never_sent(ec)) {
                diag.client_message += "; the request may have been applied";
                co_return errc::outcome_unknown;
            }
            co_return ec;
        }
        if (auto li = resp.headers.find("Sforce-Limit-Info"); li != resp.headers.end())
            if (auto info = parse_limit_info(li->value()))
                usage_.record_org_usage(*info);
        out.status = resp.status;
        out.body = std::move(resp.body);
        out.headers = std::move(resp.headers);
        if (out.status < 300 || out.status == 300 || out.status == 304) {
            limit_.succeeded(sent);
            co_return error_code{};
        }

        diag.http_status = out.status;
        diag.client_message = what;
        read_error_body(out.body, diag);
        if (out.status == 401) {
            if (renewed) {
                co_return errc::session_expired;
            }
            renewed = true;
            diagnostics rd;
            auto rec = co_await renew(used_token, rd);
            if (rec) {
                diag = rd;
                diag.client_message = what + ": the session expired and renewing it failed";
                co_return rec == errc::auth_failed ? error_code(errc::session_expired) : rec;
            }
            --attempt; // a renewed session is not a failed attempt
            continue;
        }
        if (out.status == 403 && diag.error_code == "REQUEST_LIMIT_EXCEEDED") {
            limit_.limited(sent, std::chrono::steady_clock::now());
            std::string usage;
            if (auto u = usage_.org_usage())
                usage =
                    " (api-usage " + std::to_string(u->used) + "/" + std::to_string(u->max) + ")";
            diag.client_message = what + ": Salesforce's API request limit is exceeded" + usage +
                                  "; no calls for " + std::to_string(limit_.wait().count() / 1000) +
                                  " s";
            co_return errc::request_limit_exceeded;
        }
        const bool lock = diag.error_code == "UNABLE_TO_LOCK_ROW";
        const bool transient = out.status >= 500 || lock;
        // A POST is sent again only when Salesforce itself said it did not process it: a lock,
        // or its own 503 (with its error body; a proxy's 503 page says nothing of the sort).
        const bool not_processed = lock || (out.status == 503 && !diag.error_code.empty());
        if (transient && (idempotent || not_processed) && attempt < cfg_.max_attempts) {
            ++retries_;
            ++retries_by_cause_[lock ? "lock" : "server"];
            co_await backoff(attempt);
            continue;
        }
        if (!idempotent && out.status >= 500 && !not_processed) {
            diag.client_message += "; the request may have been applied";
            co_return errc::outcome_unknown;
        }
        co_return transient ? errc::unavailable : errc::api_error;
    }
}

std::string rest_client::user_id() const {
    const std::string& url = token_.identity_url;
    const auto slash = url.rfind('/');
    return slash == std::string::npos ? std::string() : url.substr(slash + 1);
}

asio::awaitable<error_code> rest_client::describe(std::string_view object, std::string& json,
                                                  diagnostics& diag) {
    rest_response r;
    auto ec = co_await async_call(net::http::verb::get,
                                  data_path("/sobjects/" + form_encode(object) + "/describe"), "",
                                  r, diag);
    if (!ec)
        json = std::move(r.body);
    co_return ec;
}

asio::awaitable<error_code> rest_client::describe_global(std::string& json, diagnostics& diag) {
    rest_response r;
    auto ec = co_await async_call(net::http::verb::get, data_path("/sobjects"), "", r, diag);
    if (!ec)
        json = std::move(r.body);
    co_return ec;
}

asio::awaitable<error_code> rest_client::query(std::string soql, bool include_deleted,
                                               int batch_size, const page_handler& on_page,
                                               diagnostics& diag, const call_options& opts) {
    std::string target =
        data_path(include_deleted ? "/queryAll?q=" : "/query?q=") + form_encode(soql);
    call_options o = opts;
    if (batch_size > 0)
        o.headers.emplace_back("Sforce-Query-Options", "batchSize=" + std::to_string(batch_size));
    record_reader reader;
    query_page page;
    while (true) {
        rest_response r;
        auto ec = co_await async_call(net::http::verb::get, target, "", r, diag, o);
        if (ec)
            co_return ec;
        std::string error;
        if (!reader.read_page(r.body, page, error)) {
            diag.client_message = "query: " + error;
            co_return errc::bad_response;
        }
        ec = co_await on_page(page);
        if (ec)
            co_return ec;
        if (page.done)
            co_return error_code{};
        target = page.next_records_url;
    }
}

} // namespace sfbridge::salesforce
