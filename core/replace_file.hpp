#pragma once

#include <string>

// Writes `text` over the file at `path` so that a crash or a power loss leaves the old file or
// the new one, never half of one: a temporary file beside it, flushed, renamed over it, and the
// directory flushed. A symbolic link is followed (its target is replaced, the link stays) and
// the file keeps its permissions. False with `error` saying what failed (no other effect then).
namespace sfbridge {

bool replace_file(const std::string& path, const std::string& text, std::string& error);

} // namespace sfbridge
