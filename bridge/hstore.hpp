#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// hstore's text form as Postgres prints it ("k"=>"v", "n"=>NULL), which is how _trigger_log
// stores a row's old and new values. Pure.
namespace sfbridge::bridge {

using hstore_pairs = std::vector<std::pair<std::string, std::optional<std::string>>>;

// False with `error` on text that is not hstore output.
bool parse_hstore(std::string_view text, hstore_pairs& out, std::string& error);

} // namespace sfbridge::bridge
