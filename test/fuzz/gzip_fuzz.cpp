// libFuzzer target: a gzip body (net/gzip.cpp) decodes within its limit or is refused; and
// whatever the bytes, gzip then gunzip gives them back.
#include "net/gzip.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string out;
    if (!sfbridge::net::gunzip(in, out, 1 << 20) && out.size() > (1u << 20))
        std::abort(); // past the limit
    std::string back;
    if (sfbridge::net::gunzip(sfbridge::net::gzip(in), back, in.size() + 1) || back != in)
        std::abort();
    return 0;
}
