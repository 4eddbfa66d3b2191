#include "net/gzip.hpp"

#include <catch2/catch.hpp>

using namespace sfbridge::net;

TEST_CASE("gzip bodies round-trip and bad ones are refused", "[unit][net]") {
    std::string text;
    for (int i = 0; i < 5000; ++i)
        text += "{\"channel\":\"/topic/hc_Contact\",\"n\":" + std::to_string(i) + "},";
    const std::string packed = gzip(text);
    CHECK(packed.size() < text.size() / 5);
    std::string out;
    REQUIRE_FALSE(gunzip(packed, out, 10 * 1024 * 1024));
    CHECK(out == text);
    CHECK(crc32("123456789") == 0xCBF43926u); // the CRC-32 check value

    CHECK(gunzip(packed, out, 1000) == boost::system::errc::value_too_large);
    std::string corrupt = packed;
    corrupt[corrupt.size() - 6] ^= 0x55; // in the CRC
    CHECK(gunzip(corrupt, out, 10 * 1024 * 1024) == boost::system::errc::illegal_byte_sequence);
    CHECK(gunzip(packed.substr(0, packed.size() / 2), out, 10 * 1024 * 1024) ==
          boost::system::errc::illegal_byte_sequence);
    CHECK(gunzip("not gzip at all, clearly", out, 100) ==
          boost::system::errc::illegal_byte_sequence);
    std::string empty;
    REQUIRE_FALSE(gunzip(gzip(""), empty, 10));
    CHECK(empty.empty());
}
