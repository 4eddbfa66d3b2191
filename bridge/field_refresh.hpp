#pragma once

#include "bridge/mapping_runtime.hpp"
#include "bridge/sync_context.hpp"
#include "bridge/table_writer.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Some fields of every record read again and written where they changed (issue 20), for two
// reasons:
//  - refresh (sfbridge_refresh_seconds): formula and roll-up fields change without the record's
//    SystemModstamp changing (a formula edited in Setup, a child added under a parent), so
//    neither the stream nor polling brings their new values. Every N seconds.
//  - back-fill: fields added to a loaded mapping. Their columns are added at start and filled
//    once, while the stream and polling go on for the others (no reload).
// Each reads Id, SystemModstamp and the fields for all the mapping's records (Bulk API 2.0 at or
// above the bulk threshold, REST below, with the row filter) and updates only the rows whose
// values differ, and only in a row at the version the read saw (its SystemModstamp): a row that
// is older or newer gets its values from the change the stream or the poll brings anyway.
namespace sfbridge::bridge {

namespace refresh_sql {
// The mapping cut down to what a refresh reads and writes: Id, SystemModstamp and the
// calculated fields (or, given `columns`, the fields of those columns), with the row filter.
// No such field: `fields` has only the two.
[[nodiscard]] mappings::resolved_mapping view(const mappings::resolved_mapping& m);
[[nodiscard]] mappings::resolved_mapping view(const mappings::resolved_mapping& m,
                                              const std::vector<std::string>& columns);
// A staging table dropped at commit, the COPY into it, and the update of the changed rows.
[[nodiscard]] std::string create_stage(const mappings::resolved_mapping& view);
[[nodiscard]] std::string copy_into_stage(const mappings::resolved_mapping& view);
[[nodiscard]] std::string update(std::string_view schema, const mappings::resolved_mapping& view);
} // namespace refresh_sql

class field_refresher {
public:
    // Refreshes the calculated fields every sfbridge_refresh_seconds.
    field_refresher(const sync_context& ctx, mapping_runtime& m);
    // Back-fills these columns once (mapping_runtime::backfill_columns), then clears them in
    // _sfbridge_state.
    field_refresher(const sync_context& ctx, mapping_runtime& m,
                    std::vector<std::string> backfill_columns);
    field_refresher(const field_refresher&) = delete;
    field_refresher& operator=(const field_refresher&) = delete;

    // Until the stop (or, back-filling, until done), each time on a pooled session; a failure
    // is retried with backoff (at most the interval).
    boost::asio::awaitable<void> run();

private:
    boost::asio::awaitable<boost::system::error_code> refresh();
    boost::asio::awaitable<boost::system::error_code> finish_backfill();
    // How long until the next refresh is due, from the last one kept in _sfbridge_state.
    boost::asio::awaitable<std::optional<std::chrono::milliseconds>>
    first_wait(std::chrono::seconds interval);
    boost::asio::awaitable<boost::system::error_code> open(table_writer& w);
    boost::asio::awaitable<boost::system::error_code>
    write(table_writer& w, const change_batch& batch, std::size_t& changed);

    const sync_context& ctx_;
    mapping_runtime& m_;
    std::vector<std::string> backfill_; // empty: refreshing
    mappings::resolved_mapping view_;
    boost::asio::steady_timer timer_;
};

} // namespace sfbridge::bridge
