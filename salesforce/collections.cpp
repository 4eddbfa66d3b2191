#include "salesforce/collections.hpp"

#include "core/json_writer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <simdjson.h>

namespace sfbridge::salesforce {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
// The body (or, for delete, the query) of one call over records[indices].
std::string request_body(collection_op op, std::string_view object,
                         const std::vector<std::string>& records,
                         const std::vector<std::size_t>& indices) {
    std::string out;
    if (op == collection_op::remove) {
        for (std::size_t i : indices) {
            if (!out.empty())
                out += ',';
            out += records[i];
        }
        return out;
    }
    out = R"({"allOrNone":false,"records":[)";
    std::string type_attr = R"("attributes":{"type":)";
    json::append_quoted(type_attr, object);
    type_attr += '}';
    bool first = true;
    for (std::size_t i : indices) {
        if (!first)
            out += ',';
        first = false;
        const std::string& r = records[i];
        // r is a JSON object: splice the type attribute in after its opening brace.
        std::size_t open = r.find('{');
        out += '{';
        out += type_attr;
        std::string_view rest = std::string_view(r).substr(open + 1);
        std::size_t k = rest.find_first_not_of(" \t\r\n");
        if (k != std::string_view::npos && rest[k] != '}')
            out += ',';
        out += rest;
    }
    out += "]}";
    return out;
}

bool is_lock_error(const record_result& r) {
    return !r.success && !r.errors.empty() && r.errors.front().status_code == "UNABLE_TO_LOCK_ROW";
}
} // namespace

asio::awaitable<error_code> save_collection(rest_client& rest, collection_op op,
                                            std::string_view object,
                                            std::string_view external_id_field,
                                            const std::vector<std::string>& records,
                                            std::vector<record_result>& results, diagnostics& diag,
                                            const call_options& opts, int lock_retries) {
    results.assign(records.size(), record_result{});
    for (const auto& r : records)
        if (op != collection_op::remove && r.find('{') == std::string::npos) {
            diag.client_message = "a record for the collections API is not a JSON object";
            co_return errc::api_error; // a programming error in the caller
        }
    net::http::verb verb = net::http::verb::post;
    std::string base = rest.data_path("/composite/sobjects");
    switch (op) {
    case collection_op::create:
        break;
    case collection_op::update:
        verb = net::http::verb::patch;
        break;
    case collection_op::upsert:
        verb = net::http::verb::patch;
        base += "/" + std::string(object) + "/" + std::string(external_id_field);
        break;
    case collection_op::remove:
        verb = net::http::verb::delete_;
        break;
    }

    // One chunk of 200, with its own lock retries. Chunks name distinct records, so several
    // may be in flight at once (the REST client's connection pool bounds them).
    error_code first_error;
    diagnostics first_diag;
    auto send_chunk = [&](std::size_t start) -> asio::awaitable<void> {
        std::vector<std::size_t> pending;
        for (std::size_t i = start; i < std::min(records.size(), start + collection_chunk); ++i)
            pending.push_back(i);
        diagnostics d;
        for (int round = 0; !pending.empty(); ++round) {
            if (round > 0)
                co_await rest.backoff(round);
            std::string body = request_body(op, object, records, pending);
            std::string target = base;
            if (op == collection_op::remove) {
                target += "?allOrNone=false&ids=" + body;
                body.clear();
            }
            rest_response resp;
            auto ec =
                co_await rest.async_call(verb, std::move(target), std::move(body), resp, d, opts);
            // The answer of a create is lost: these records may exist now.
            auto unknown = [&](const error_code& why, const diagnostics& said) {
                for (std::size_t i : pending) {
                    results[i].attempted = true;
                    results[i].unknown = true;
                }
                if (!first_error) {
                    first_error = why;
                    first_diag = said;
                }
            };
            if (ec == errc::outcome_unknown) {
                unknown(ec, d);
                co_return;
            }
            if (ec) {
                if (ec == condition::retryable) {
                    if (!first_error) {
                        first_error = ec;
                        first_diag = d;
                    }
                    co_return; // these records stay not attempted
                }
                for (std::size_t i : pending) {
                    results[i].attempted = true;
                    results[i].success = false;
                    results[i].errors = {record_error{d.error_code, d.message, d.fields}};
                }
                co_return;
            }
            std::vector<record_result> got;
            if (!read_collection_results(resp.body, pending.size(), got)) {
                if (op == collection_op::create) {
                    diagnostics said = d;
                    said.client_message = "the answer to a create could not be read; the "
                                          "records may have been created";
                    unknown(errc::outcome_unknown, said);
                    co_return;
                }
                if (!first_error) {
                    first_error = errc::bad_response;
                    first_diag = d;
                    first_diag.client_message =
                        "the collections answer does not have one result per record";
                }
                co_return;
            }
            std::vector<std::size_t> again;
            for (std::size_t k = 0; k < pending.size(); ++k) {
                if (is_lock_error(got[k]) && round < lock_retries)
                    again.push_back(pending[k]);
                results[pending[k]] = std::move(got[k]);
            }
            pending = std::move(again);
        }
    };
    constexpr std::size_t in_flight = 4;
    std::size_t next = 0, running = 0;
    std::exception_ptr thrown; // a chunk's exception, rethrown once every chunk has ended
    asio::steady_timer done(co_await asio::this_coro::executor);
    done.expires_at(asio::steady_timer::time_point::max());
    while (next < records.size() || running > 0) {
        while (next < records.size() && running < in_flight && !first_error && !thrown) {
            ++running;
            asio::co_spawn(co_await asio::this_coro::executor, send_chunk(next),
                           [&](std::exception_ptr e) {
                               if (e && !thrown)
                                   thrown = e;
                               --running;
                               done.cancel();
                           });
            next += collection_chunk;
        }
        if ((first_error || thrown) && running == 0)
            break;
        if (running > 0) {
            error_code wait_ec;
            co_await done.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
        } else if (next >= records.size()) {
            break;
        }
    }
    if (thrown)
        std::rethrow_exception(thrown);
    if (first_error) {
        diag = first_diag;
        co_return first_error;
    }
    co_return error_code{};
}

} // namespace sfbridge::salesforce
