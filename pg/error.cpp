#include "pg/error.hpp"

namespace sfbridge::pg {
namespace {

constexpr int base36_digit(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return -1;
}

class client_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "sfbridge.pg"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::connect_failed:
            return "could not connect to the PostgreSQL server";
        case errc::timeout:
            return "the PostgreSQL operation did not finish before its deadline";
        case errc::connection_lost:
            return "the connection to the PostgreSQL server was lost";
        case errc::broken:
            return "the PostgreSQL connection is broken by an earlier failure";
        case errc::not_connected:
            return "the PostgreSQL connection is not open";
        case errc::operation_in_progress:
            return "another operation is in progress on this PostgreSQL connection";
        case errc::pipeline_out_of_sync:
            return "PostgreSQL pipeline results did not match the statements sent";
        case errc::pipeline_aborted:
            return "the statement was skipped because an earlier statement in its pipeline "
                   "group failed";
        case errc::unexpected_result:
            return "PostgreSQL returned a result of an unexpected kind";
        case errc::invalid_argument:
            return "invalid argument to a PostgreSQL operation";
        case errc::cancelled:
            return "the PostgreSQL operation was cancelled";
        case errc::server_error:
            return "the PostgreSQL server reported an error";
        }
        return "unknown sfbridge.pg error";
    }
    boost::system::error_condition default_error_condition(int ev) const noexcept override {
        switch (static_cast<errc>(ev)) {
        case errc::timeout:
        case errc::connection_lost:
        case errc::broken:
        case errc::not_connected:
            return make_error_condition(condition::connection_lost);
        default:
            return {ev, *this};
        }
    }
};

class sqlstate_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "sqlstate"; }
    // Only the code: the server's text belongs in diagnostics, never in a category message.
    std::string message(int ev) const override { return "SQLSTATE " + decode_sqlstate(ev); }
};

bool sqlstate_is(const std::string& s, condition c) {
    if (s.size() != 5)
        return false;
    const std::string_view cls = std::string_view(s).substr(0, 2);
    switch (c) {
    case condition::connection_lost:
        return cls == "08" || s == "57P01" || s == "57P02" || s == "57P03" || s == "57P05";
    case condition::retryable:
        return s == "40001" || s == "40P01" || s == "55P03";
    case condition::constraint_violation:
        return cls == "23";
    case condition::bad_input:
        return cls == "22" || cls == "42";
    }
    return false;
}

class condition_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "sfbridge.pg.condition"; }
    std::string message(int ev) const override {
        switch (static_cast<condition>(ev)) {
        case condition::connection_lost:
            return "connection lost";
        case condition::retryable:
            return "retryable transaction failure";
        case condition::constraint_violation:
            return "constraint violation";
        case condition::bad_input:
            return "bad input";
        }
        return "unknown condition";
    }
    bool equivalent(const boost::system::error_code& code, int cond) const noexcept override {
        if (code.category() == sqlstate_category()) {
            try {
                return sqlstate_is(decode_sqlstate(code.value()), static_cast<condition>(cond));
            } catch (...) {
                return false;
            }
        }
        if (code.category() == client_category()) {
            return client_category().default_error_condition(code.value()) ==
                   boost::system::error_condition(cond, *this);
        }
        return false;
    }
};

} // namespace

const boost::system::error_category& client_category() noexcept {
    static const client_category_impl instance;
    return instance;
}
const boost::system::error_category& sqlstate_category() noexcept {
    static const sqlstate_category_impl instance;
    return instance;
}
const boost::system::error_category& condition_category() noexcept {
    static const condition_category_impl instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), client_category()};
}
boost::system::error_condition make_error_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

int encode_sqlstate(std::string_view s) noexcept {
    if (s.size() != 5)
        return 0;
    int v = 0;
    for (char c : s) {
        int d = base36_digit(c);
        if (d < 0)
            return 0;
        v = v * 36 + d;
    }
    // "00000" (successful_completion) packs to 0, which error_code reads as success. It is
    // never an error, so nothing is lost.
    return v;
}

std::string decode_sqlstate(int value) {
    std::string s(5, '0');
    for (int i = 4; i >= 0; --i) {
        int d = value % 36;
        s[static_cast<std::size_t>(i)] = static_cast<char>(d < 10 ? '0' + d : 'A' + d - 10);
        value /= 36;
    }
    return s;
}

boost::system::error_code make_sqlstate_error(std::string_view sqlstate) noexcept {
    int v = encode_sqlstate(sqlstate);
    if (v == 0)
        return make_error_code(errc::server_error);
    return {v, sqlstate_category()};
}

std::string sqlstate_of(const boost::system::error_code& ec) {
    if (ec.category() != sqlstate_category())
        return {};
    return decode_sqlstate(ec.value());
}

} // namespace sfbridge::pg
