#pragma once

#include "net/url.hpp"

#include <catch2/catch.hpp>

#include <string_view>

namespace sfbridge::test {

// A URL the test knows to be valid, parsed.
inline net::url parsed_url(std::string_view s) {
    auto r = net::parse_url(s);
    REQUIRE(r);
    return *r;
}

} // namespace sfbridge::test
