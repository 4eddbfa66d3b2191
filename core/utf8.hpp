#pragma once

#include <cstddef>
#include <string>
#include <string_view>

// UTF-8 checks for text on its way into Postgres, whose text types hold neither a NUL nor a
// byte sequence that is not UTF-8 (the database encoding sfbridge requires). Pure.
namespace sfbridge::utf8 {

// Whether `s` is well-formed UTF-8: no stray continuation bytes, no overlong forms, no
// surrogates, nothing past U+10FFFF (what Postgres' UTF8 encoding accepts). A NUL is valid
// UTF-8; Postgres refuses it separately.
[[nodiscard]] bool valid(std::string_view s) noexcept;

// `s` made safe to quote in a message stored in Postgres: every NUL and every byte that does
// not start a well-formed sequence becomes U+FFFD, and the text is cut to at most `max_bytes`
// on a character boundary (a cut inside a character would itself be invalid UTF-8).
[[nodiscard]] std::string printable(std::string_view s, std::size_t max_bytes);

} // namespace sfbridge::utf8
