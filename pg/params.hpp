#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::pg {

// Statement parameters in text format, packed in one buffer so that a pipeline of thousands of
// statements costs two allocations per statement at most. Values are always sent as parameters,
// never spliced into SQL.
class params {
public:
    params() = default;

    template <class... Ts>
    explicit params(const Ts&... values) {
        entries_.reserve(sizeof...(Ts));
        (add(values), ...);
    }

    params& add(std::string_view v);
    params& add(const char* v) { return add(std::string_view(v)); }
    params& add(const std::string& v) { return add(std::string_view(v)); }
    params& add(std::nullopt_t) { return add_null(); }
    params& add(bool v) { return add(std::string_view(v ? "t" : "f")); }
    params& add(int v) { return add_integer(v); }
    params& add(long v) { return add_integer(v); }
    params& add(long long v) { return add_integer(v); }
    params& add(unsigned v) { return add_integer(v); }
    params& add(unsigned long v) { return add_unsigned(v); }
    params& add(unsigned long long v) { return add_unsigned(v); }
    params& add(double v);
    template <class T>
    params& add(const std::optional<T>& v) {
        return v ? add(*v) : add_null();
    }
    params& add_null();

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
    [[nodiscard]] bool is_null(std::size_t i) const noexcept { return entries_[i].length < 0; }
    [[nodiscard]] std::string_view value(std::size_t i) const noexcept {
        return {data_.data() + entries_[i].offset, static_cast<std::size_t>(entries_[i].length)};
    }

    // Fills the arrays that PQsendQueryParams takes. The pointers stay valid until this object is
    // changed or destroyed. Each value is followed by a NUL in the buffer, as libpq's text format
    // expects.
    void materialize(std::vector<const char*>& values) const;

    void clear() noexcept {
        data_.clear();
        entries_.clear();
    }

private:
    params& add_integer(long long v);
    params& add_unsigned(unsigned long long v);
    struct entry {
        std::size_t offset;
        int length; // -1 for NULL
    };
    std::string data_;
    std::vector<entry> entries_;
};

// A text[] literal ({"a","b",NULL}) for one parameter: many values in one statement through
// unnest($1::text[]), without a statement per value.
[[nodiscard]] std::string text_array(const std::vector<std::optional<std::string>>& values);

} // namespace sfbridge::pg
