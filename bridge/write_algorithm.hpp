#pragma once

namespace sfbridge::bridge {

// Heroku Connect's two write algorithms: ordered (each captured change is its own write, in
// trigger-log order) or merged (pending changes to one record become one write).
enum class write_algorithm { ordered, merged };

} // namespace sfbridge::bridge
