#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace sfbridge::pg {

// What went wrong, beside the error_code. Server fields come from the server and may contain
// user data (a duplicate key's value, say): log them at debug level, never at info. The client
// message is our own ASCII text and is always safe to log.
struct diagnostics {
    std::string client_message; // what sfbridge was doing, e.g. "connect to 127.0.0.1:5432"
    std::string sqlstate;       // five characters, or empty when the server gave none
    std::string message;        // the server's (or libpq's) primary message
    std::string detail;
    std::string hint;
    std::optional<std::size_t> statement_index; // for pipelines: which statement failed

    void clear() {
        client_message.clear();
        sqlstate.clear();
        message.clear();
        detail.clear();
        hint.clear();
        statement_index.reset();
    }

    // One line for logs and error messages: client message, SQLSTATE and server message.
    [[nodiscard]] std::string summary() const {
        std::string s = client_message;
        if (statement_index) {
            s += s.empty() ? "" : ": ";
            s += "statement " + std::to_string(*statement_index);
        }
        if (!sqlstate.empty()) {
            s += s.empty() ? "" : ": ";
            s += "SQLSTATE " + sqlstate;
        }
        if (!message.empty()) {
            s += s.empty() ? "" : ": ";
            s += message;
        }
        return s;
    }
};

} // namespace sfbridge::pg
