#include "net/gzip.hpp"

#include <boost/beast/zlib/deflate_stream.hpp>
#include <boost/beast/zlib/inflate_stream.hpp>

#include <array>

namespace sfbridge::net {
namespace zlib = boost::beast::zlib;
using boost::system::error_code;

namespace {
constexpr std::array<std::uint32_t, 256> make_crc_table() {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
    }
    return t;
}
constexpr auto crc_table = make_crc_table();

error_code bad() {
    return make_error_code(boost::system::errc::illegal_byte_sequence);
}

std::uint32_t le32(std::string_view s, std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3])) << 24;
}
} // namespace

std::uint32_t crc32(std::string_view data, std::uint32_t crc) noexcept {
    crc = ~crc;
    for (char ch : data)
        crc = crc_table[(crc ^ static_cast<unsigned char>(ch)) & 0xff] ^ (crc >> 8);
    return ~crc;
}

error_code gunzip(std::string_view in, std::string& out, std::size_t max_output) {
    out.clear();
    // Header: ID1 ID2 CM FLG MTIME(4) XFL OS, then the optional parts FLG announces.
    if (in.size() < 18 || static_cast<unsigned char>(in[0]) != 0x1f ||
        static_cast<unsigned char>(in[1]) != 0x8b || in[2] != 8)
        return bad();
    const auto flags = static_cast<unsigned char>(in[3]);
    std::size_t pos = 10;
    if (flags & 0x04) { // FEXTRA
        if (pos + 2 > in.size())
            return bad();
        pos += 2 + (static_cast<unsigned char>(in[pos]) |
                    static_cast<std::size_t>(static_cast<unsigned char>(in[pos + 1])) << 8);
    }
    for (unsigned char flag : {0x08, 0x10}) { // FNAME, FCOMMENT: zero-terminated
        if (flags & flag) {
            const auto end = in.find('\0', pos);
            if (end == std::string_view::npos)
                return bad();
            pos = end + 1;
        }
    }
    if (flags & 0x02) // FHCRC
        pos += 2;
    if (pos + 8 > in.size())
        return bad();

    zlib::inflate_stream inflater;
    zlib::z_params zs;
    zs.next_in = in.data() + pos;
    // The trailer is offered too: Beast's inflater may need to look past the last deflate
    // byte before it reports the stream's end (found by fuzzing: a valid body whose end it never
    // reported was refused). Where the data ended comes from total_in.
    zs.avail_in = in.size() - pos;
    std::array<char, 16384> buf;
    for (;;) {
        zs.next_out = buf.data();
        zs.avail_out = buf.size();
        error_code ec;
        inflater.write(zs, zlib::Flush::sync, ec);
        const std::size_t produced = buf.size() - zs.avail_out;
        out.append(buf.data(), produced);
        if (out.size() > max_output)
            return make_error_code(boost::system::errc::value_too_large);
        if (ec == zlib::error::end_of_stream)
            break;
        if (ec == zlib::error::need_buffers && zs.avail_in == 0 && produced == 0)
            return bad(); // the deflate data ended early
        if (ec && ec != zlib::error::need_buffers)
            return bad();
    }
    // The trailer is the last 8 bytes: total_in may count a byte the inflater read ahead (its
    // slow path), so it only has to reach the trailer, not end exactly before it.
    const std::size_t trailer = in.size() - 8;
    if (pos + zs.total_in < trailer || le32(in, trailer) != crc32(out) ||
        le32(in, trailer + 4) != static_cast<std::uint32_t>(out.size()))
        return bad();
    return {};
}

std::string gzip(std::string_view in) {
    std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
    zlib::deflate_stream deflater;
    deflater.reset(6, 15, 8, zlib::Strategy::normal);
    zlib::z_params zs;
    zs.next_in = in.data();
    zs.avail_in = in.size();
    std::array<char, 16384> buf;
    for (;;) {
        zs.next_out = buf.data();
        zs.avail_out = buf.size();
        error_code ec;
        deflater.write(zs, zlib::Flush::finish, ec);
        out.append(buf.data(), buf.size() - zs.avail_out);
        if (ec == zlib::error::end_of_stream || (zs.avail_in == 0 && zs.avail_out != 0 && !ec))
            break;
    }
    const std::uint32_t c = crc32(in), n = static_cast<std::uint32_t>(in.size());
    for (std::uint32_t v : {c, n})
        for (int i = 0; i < 4; ++i)
            out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return out;
}

} // namespace sfbridge::net
