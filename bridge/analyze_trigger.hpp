#pragma once

#include <cstddef>

// When a table that sfbridge fills itself needs fresh planner statistics.
//
// The tombstone table (_sfbridge_deleted) starts empty and grows with every delete streamed
// in. The merge's statements are prepared, and PostgreSQL keeps a prepared statement's plan
// until the statistics of a table it reads change. Planned while the table held next to
// nothing, the tombstone lookup reads every tombstone of the mapping (a scan, or the primary
// key's first column only), so each merge costs more with every delete until autovacuum's
// ANALYZE comes round (up to a minute apart, and never where autovacuum is off): measured,
// 0.4 ms per merge rising to 1.6 ms within a minute at 50 deletes/s. An ANALYZE invalidates
// every session's plan that reads the table, and with statistics that know its size the
// planner looks each sfid up by the whole key.
//
// So sfbridge counts what it adds and asks for an ANALYZE whenever the table has grown by a
// fraction of what the last one saw (at least `min_rows`): a few over the table's life (each
// one after 1.5 times the rows of the last), and a plan that reads at most a bounded number
// of rows in between.
namespace sfbridge::bridge {

class analyze_trigger {
public:
    analyze_trigger(double min_rows, double fraction) noexcept
        : min_rows_(min_rows), fraction_(fraction) {}

    // The rows the table held at the last ANALYZE (pg_class.reltuples; negative: never
    // analyzed, taken as empty), read at the start or after one sfbridge ran.
    void analyzed(double rows) noexcept {
        baseline_ = rows > 0 ? rows : 0;
        in_flight_ = 0;
    }
    // Rows written into the table (an upper bound is fine: an ANALYZE too many is cheap).
    void added(std::size_t rows) noexcept { added_ += rows; }
    [[nodiscard]] bool due() const noexcept;
    // An ANALYZE starts: rows added from now on count towards the next one.
    void started() noexcept;
    // It failed: the rows it was to cover count again.
    void failed() noexcept;
    [[nodiscard]] std::size_t pending() const noexcept { return added_; }

private:
    double min_rows_, fraction_;
    double baseline_ = 0;
    std::size_t added_ = 0;
    std::size_t in_flight_ = 0;
};

} // namespace sfbridge::bridge
