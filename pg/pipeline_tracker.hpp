#pragma once

#include <cstddef>
#include <deque>

namespace sfbridge::pg {

// The bookkeeping of libpq's pipeline mode, without any I/O (after userver's
// pipeline_sync_counter_, made strict). The connection tells it what it sent and what libpq
// returned; it answers where each result belongs and detects any mismatch, after which the
// connection must be treated as broken: the order of results can no longer be trusted.
//
// libpq's contract, per statement: one result (ok, error, or PGRES_PIPELINE_ABORTED once an
// earlier statement of the group failed), then a NULL; per sync: one PGRES_PIPELINE_SYNC.
class pipeline_tracker {
public:
    enum class input { ok, error, aborted, null, sync };
    enum class step {
        result_received,    // a statement's result: keep it for `index`
        statement_complete, // the NULL that ends statement `index`
        group_complete,     // a sync group is finished
        out_of_sync,        // results do not match what was sent: the connection is broken
    };
    struct outcome {
        step what;
        std::size_t index = 0; // the statement, for result_received and statement_complete
    };

    void expect_statement() { queue_.push_back({next_index_++, false}); }
    void expect_sync() { queue_.push_back({sync_marker, false}); }

    outcome on(input in) noexcept;

    // True when every statement and sync sent has been accounted for.
    [[nodiscard]] bool idle() const noexcept { return queue_.empty(); }
    [[nodiscard]] bool broken() const noexcept { return broken_; }
    [[nodiscard]] std::size_t pending_syncs() const noexcept;
    [[nodiscard]] std::size_t statements_sent() const noexcept { return next_index_; }

    void reset() noexcept {
        queue_.clear();
        next_index_ = 0;
        group_failed_ = false;
        broken_ = false;
    }

private:
    static constexpr std::size_t sync_marker = static_cast<std::size_t>(-1);
    struct item {
        std::size_t index; // sync_marker for a sync
        bool got_result;
    };
    outcome fail() noexcept {
        broken_ = true;
        return {step::out_of_sync, 0};
    }

    std::deque<item> queue_;
    std::size_t next_index_ = 0;
    bool group_failed_ = false;
    bool broken_ = false;
};

} // namespace sfbridge::pg
