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

TEST_CASE("a gzip body whose end the inflater sees only past the deflate data is read",
          "[unit][net]") {
    // Found by fuzzing: this body (itself a gzip file, gzipped again) was refused as corrupt,
    // since the inflater reported the stream's end only when it could look past the last byte.
    const std::string inner("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x4b\x54\x48\xaf\xca\x2c"
                            "\x50\x48\xca\x4f\xa9\x54\x28\xcf\x2c\xc9\x50\x28\xce\xcf\x4d\x55"
                            "\x28\x49\xad\x28\x51\xc8\xcc\x53\xc8\x2c\xd1\x41\x17\xe0\x02\x00"
                            "\xd4\xe9\xdd\x93\x32\x00\x00\x00",
                            56);
    std::string out;
    REQUIRE_FALSE(gunzip(gzip(inner), out, 1000));
    CHECK(out == inner);
    REQUIRE_FALSE(gunzip(inner, out, 1000));
    CHECK(out == "a gzip body with some text in it, some text in it\n");
}
