// libFuzzer target: what comes in headers and settings as text: URLs (login URLs, proxies,
// instance URLs), Set-Cookie headers and their dates, Sforce-Limit-Info. Each parses or is
// refused; a cookie stored is sent back only to a URL it matches.
#include "net/cookie_jar.hpp"
#include "net/url.hpp"
#include "salesforce/api_usage.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace sfbridge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string error;
    if (auto u = net::parse_url(text, &error); u && u->host.empty())
        std::abort(); // a URL always has a host
    (void)net::cookie_jar::parse_http_date(text);
    if (auto li = salesforce::parse_limit_info(text); li && (li->used < 0 || li->max < 0))
        std::abort();
    static const auto request = *net::parse_url("https://org.my.salesforce.com/services/data");
    static const auto other = *net::parse_url("https://example.com/");
    net::cookie_jar jar;
    const auto now = net::cookie_jar::clock::now();
    if (jar.store(request, text, now) && !jar.header_for(other, now).empty() &&
        text.find("example.com") == std::string_view::npos)
        std::abort(); // sent to a host it was not set for
    return 0;
}
