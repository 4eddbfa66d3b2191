// libFuzzer target: Bulk API 2.0 CSV as it arrives, in chunks split anywhere (a quote, a CR
// and its LF, a multi-byte character split between two reads). The first byte seeds the
// split points. Whatever the splits, the rows read are the same as from the whole text.
#include "salesforce/csv_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using sfbridge::salesforce::csv_reader;
using sfbridge::salesforce::csv_rows;

namespace {
// Every row's fields, joined; false when the reader refused the text.
bool read(std::string_view text, unsigned seed, std::vector<std::string>& out) {
    csv_reader reader;
    csv_rows rows;
    std::size_t at = 0;
    auto take = [&] {
        for (std::size_t r = 0; r < rows.size(); ++r) {
            std::string row;
            for (std::size_t i = 0; i < rows.width(r); ++i)
                row.append(rows.field(r, i)).push_back(rows.quoted(r, i) ? '\x01' : '\x02');
            out.push_back(std::move(row));
        }
        rows.drop_front(rows.size());
    };
    while (at < text.size()) {
        const std::size_t n =
            seed == 0 ? text.size() : 1 + (seed = seed * 1103515245u + 12345u) % 7;
        if (!reader.feed(text.substr(at, n), rows))
            return false;
        take();
        at += n;
    }
    if (!reader.finish(rows))
        return false;
    take();
    return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::vector<std::string> whole, split;
    const bool a = read(text, 0, whole);
    const bool b = read(text, data[0] | 1u, split);
    if (a != b || (a && whole != split))
        std::abort(); // the chunking changed what was read
    return 0;
}
