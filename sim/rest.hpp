#pragma once

#include "sim/http_util.hpp"
#include "sim/org.hpp"
#include "sim/soql.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// The REST API under /services/data/vXX.X/, after authentication and limits have been checked
// by the simulator: versions, describes, records, upsert by external id, query and queryAll
// with paging, updated/ and deleted/, sObject Collections and /limits.
namespace sfbridge::sim {

struct api_usage {
    long used = 0;
    long max = 100000;
};

class rest_api {
public:
    rest_api(org& data, api_usage& usage) : data_(data), usage_(usage) {}

    // `segments` follow "/services/data/vXX.X"; `version` is "XX.X".
    [[nodiscard]] response handle(const request& req, std::string_view version,
                                  const std::vector<std::string>& segments,
                                  std::string_view query_string);
    // GET /services/data/: the versions list (not counted against limits).
    [[nodiscard]] static response versions();
    void reset() { cursors_.clear(); }

private:
    struct cursor {
        const object_def* object;
        std::vector<int> fields;
        std::vector<const record*> rows;
        std::size_t batch;
        std::string id; // the locator's id part
    };

    response describe_global(std::string_view version);
    response sobject_root(const object_def& o, std::string_view version);
    response create(const object_def& o, const request& req);
    response by_id(const request& req, const object_def& o, const std::string& id,
                   std::string_view version, std::string_view query_string);
    response by_external_id(const request& req, const object_def& o, const std::string& field,
                            const std::string& key, std::string_view version);
    response query(const request& req, std::string_view version, std::string_view query_string,
                   bool all);
    response query_more(std::string_view version, const std::string& locator);
    response page(cursor& c, std::size_t offset, std::string_view version);
    response updated(const object_def& o, std::string_view query_string);
    response deleted(const object_def& o, std::string_view query_string);
    response limits();
    response tooling_query(std::string_view query_string);
    response collections(const request& req, const std::vector<std::string>& segments,
                         std::string_view query_string);

    org& data_;
    api_usage& usage_;
    std::unordered_map<std::string, cursor> cursors_;
    std::deque<std::string> cursor_order_; // oldest first, to bound memory
    std::uint64_t cursor_seq_ = 0;
};

} // namespace sfbridge::sim
