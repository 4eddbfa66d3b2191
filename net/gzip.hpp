#pragma once

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace sfbridge::net {

// Decodes a gzip member (RFC 1952): header, raw deflate (Beast's zlib), CRC-32 and size
// trailer, all checked. `max_output` bounds the result so a small body cannot expand into
// gigabytes. Errors: boost::system::errc::illegal_byte_sequence for bad data,
// errc::value_too_large past the limit.
[[nodiscard]] boost::system::error_code gunzip(std::string_view in, std::string& out,
                                               std::size_t max_output);

// Encodes data as one gzip member (for tests and servers).
[[nodiscard]] std::string gzip(std::string_view in);

[[nodiscard]] std::uint32_t crc32(std::string_view data, std::uint32_t crc = 0) noexcept;

} // namespace sfbridge::net
