// libFuzzer target: the config file (KEY=VALUE lines, bridge/settings.cpp) loads or is refused
// with an error naming the file; it never crashes whatever the bytes.
#include "bridge/settings.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = "/tmp/sfbridge-config-fuzz-" + std::to_string(getpid());
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    sfbridge::bridge::settings s;
    try {
        s.load_file(path);
    } catch (const std::runtime_error& e) {
        if (std::string(e.what()).find(path) == std::string::npos)
            std::abort(); // the error names the file
    }
    return 0;
}
