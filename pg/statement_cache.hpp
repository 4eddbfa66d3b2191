#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sfbridge::pg {

// The statements prepared on one session, by their text. A statement that runs again and again
// (a stream's one-row merge) is sent once with Parse under a name and then executed by that
// name: the server skips parsing and, after a few runs, planning, which for a merge of a
// fifteen-column table is most of the cost of a one-row transaction.
//
// Names live as long as the session (not the transaction: a rollback keeps them), so the
// connection clears the cache whenever it closes. Bounded: once full, statements are sent
// unnamed as before. Sans-io; the connection does the sending.
class statement_cache {
public:
    explicit statement_cache(std::size_t capacity = 64) : capacity_(capacity) {}

    // The name `sql` is prepared under on this session, or nullptr.
    [[nodiscard]] const std::string* find(std::string_view sql) const;
    // A fresh name for a statement about to be prepared, or an empty string when `pending`
    // statements already sent for preparing would fill the cache.
    [[nodiscard]] std::string next_name(std::size_t pending);
    // The server accepted the Parse of `sql` under `name`.
    void add(std::string_view sql, std::string name);
    void clear() noexcept { names_.clear(); }

    [[nodiscard]] std::size_t size() const noexcept { return names_.size(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    // Statements past the capacity run unprepared (parsed and planned at each execution); one
    // already prepared stays.
    void set_capacity(std::size_t c) noexcept { capacity_ = c; }

private:
    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, std::string, text_hash, std::equal_to<>> names_;
    std::size_t capacity_;
    std::uint64_t sequence_ = 0;
};

} // namespace sfbridge::pg
