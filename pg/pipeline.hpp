#pragma once

#include "pg/params.hpp"
#include "pg/result.hpp"

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace sfbridge::pg {

// A list of statements to send in pipeline mode. Statements between two sync points form one
// sync group: the server runs a group as one implicit transaction (unless the statements manage
// transactions themselves), and an error in a group skips the rest of that group only. The
// connection adds the final sync itself.
class pipeline {
public:
    struct statement {
        std::string sql;
        params args;
        bool prepare = false;
    };

    pipeline& add(std::string sql, params args = {}) {
        statements_.push_back({std::move(sql), std::move(args), false});
        return *this;
    }
    // A statement that will run again on this connection: it is prepared under a name the
    // first time (in the same round trip) and executed by name from then on, which spares the
    // server parsing and planning it each time. For statements whose text repeats; statements
    // whose text varies would only fill the connection's cache.
    pipeline& add_prepared(std::string sql, params args = {}) {
        statements_.push_back({std::move(sql), std::move(args), true});
        return *this;
    }
    // Ends the current sync group; an empty group is ignored.
    pipeline& sync() {
        if (!statements_.empty() && (syncs_.empty() || syncs_.back() != statements_.size()))
            syncs_.push_back(statements_.size());
        return *this;
    }
    void reserve(std::size_t n) { statements_.reserve(n); }
    void clear() noexcept {
        statements_.clear();
        syncs_.clear();
    }

    [[nodiscard]] std::size_t size() const noexcept { return statements_.size(); }
    [[nodiscard]] bool empty() const noexcept { return statements_.empty(); }
    [[nodiscard]] const std::vector<statement>& statements() const noexcept { return statements_; }
    // Sync after these statement counts (each is an exclusive end index), ascending.
    [[nodiscard]] const std::vector<std::size_t>& sync_points() const noexcept { return syncs_; }

private:
    std::vector<statement> statements_;
    std::vector<std::size_t> syncs_;
};

// One entry per statement, in the order sent.
struct pipeline_result {
    std::vector<result> results; // empty for a statement that failed or was skipped
    // success; a SQLSTATE error for the statement that failed; errc::pipeline_aborted for the
    // statements its failure skipped
    std::vector<boost::system::error_code> errors;

    [[nodiscard]] std::size_t failed_count() const noexcept {
        std::size_t n = 0;
        for (const auto& e : errors)
            n += e ? 1 : 0;
        return n;
    }
};

} // namespace sfbridge::pg
