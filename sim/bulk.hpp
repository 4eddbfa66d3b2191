#pragma once

#include "sim/faults.hpp"
#include "sim/http_util.hpp"
#include "sim/org.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

// Bulk API 2.0 query jobs under /services/data/vXX.X/jobs/query: create, poll, CSV results
// paged with Sforce-Locator, delete. A job's rows are fixed when it is created, as a snapshot.
namespace sfbridge::sim {

class bulk_api {
public:
    bulk_api(org& data, const fault_settings& faults) : data_(data), faults_(faults) {}

    // `segments` follow "jobs/query".
    [[nodiscard]] response handle(const request& req, std::string_view version,
                                  const std::vector<std::string>& segments,
                                  std::string_view query_string);
    void reset() { jobs_.clear(); }

private:
    struct job {
        std::string id;
        std::string operation;
        std::string version;
        const object_def* object = nullptr;
        std::vector<int> fields;
        std::vector<const record*> rows;
        std::string created;
        char delimiter = ',';
        std::string line_ending = "\n";
        std::string delimiter_name = "COMMA";
        int polls = 0; // the first poll says InProgress, as a real job would
        bool aborted = false;
    };
    response create(const request& req, std::string_view version);
    response info(job& j, bool count_poll);
    response results(job& j, std::string_view version, std::string_view query_string);

    org& data_;

    const fault_settings& faults_;
    std::map<std::string, job> jobs_;
    std::uint64_t sequence_ = 0;
};

} // namespace sfbridge::sim
