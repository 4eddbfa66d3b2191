#pragma once

#include <string>

namespace sfbridge::pg {

// One NOTIFY received on a LISTENing connection.
struct notification {
    std::string channel;
    std::string payload;
    int backend_pid = 0; // the server process that sent it
};

} // namespace sfbridge::pg
