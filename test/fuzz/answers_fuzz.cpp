// libFuzzer target: Salesforce's answers that decide an outcome (salesforce/answers.cpp): the
// token endpoint's answer, an error body, a collections answer. Each reads or refuses; none
// crashes, reads out of bounds, or returns more results than asked for. The first byte picks
// the reader and its parameter (an HTTP status, a count of results expected).
#include "salesforce/collections.hpp"
#include "salesforce/oauth.hpp"
#include "salesforce/rest_client.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace sfbridge::salesforce;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    const unsigned pick = data[0];
    switch (pick % 3) {
    case 0: {
        static constexpr unsigned statuses[] = {200, 400, 401, 500, 503};
        access_token t;
        diagnostics d;
        const auto ec = parse_token_response(statuses[(pick / 3) % 5], body, t, d);
        if (!ec && (t.token.empty() || t.instance_url.empty()))
            std::abort(); // a token is only ever handed out whole
        break;
    }
    case 1: {
        diagnostics d;
        (void)read_error_body(body, d);
        break;
    }
    default: {
        const std::size_t expected = (pick / 3) % 8;
        std::vector<record_result> results;
        if (read_collection_results(body, expected, results) && results.size() != expected)
            std::abort();
        break;
    }
    }
    return 0;
}
