#pragma once

#include <string_view>

// The status page (GET /): bridge/status_page.html, compiled in at build time (one
// self-contained file: no CDN, no framework, nothing fetched but /status).
namespace sfbridge::bridge {

extern const std::string_view status_page_html;

} // namespace sfbridge::bridge
