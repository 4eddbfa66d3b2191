#include "salesforce/error.hpp"

#include "net/error.hpp"

namespace sfbridge::salesforce {

namespace {
class sf_category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "salesforce"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::auth_failed:
            return "Salesforce refused the credentials";
        case errc::session_expired:
            return "the Salesforce session expired and could not be renewed";
        case errc::request_limit_exceeded:
            return "the org's API request limit is exceeded";
        case errc::daily_budget_exhausted:
            return "the mapping's daily API budget is spent";
        case errc::unavailable:
            return "Salesforce is unavailable";
        case errc::api_error:
            return "Salesforce returned an error";
        case errc::bad_response:
            return "Salesforce's answer could not be read";
        case errc::job_failed:
            return "the Bulk API job failed";
        case errc::outcome_unknown:
            return "the answer was lost: Salesforce may have applied the request";
        }
        return "unknown salesforce error";
    }
    bool equivalent(int code, const boost::system::error_condition& c) const noexcept override;
};

class sf_condition_category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "salesforce-condition"; }
    std::string message(int) const override { return "retryable"; }
    bool equivalent(const boost::system::error_code& ec, int cond) const noexcept override {
        if (cond != static_cast<int>(condition::retryable))
            return false;
        if (ec.category() == category()) {
            const auto e = static_cast<errc>(ec.value());
            return e == errc::unavailable || e == errc::request_limit_exceeded ||
                   e == errc::session_expired || e == errc::daily_budget_exhausted ||
                   e == errc::outcome_unknown;
        }
        return ec == net::condition::retryable;
    }
};

bool sf_category::equivalent(int code, const boost::system::error_condition& c) const noexcept {
    return c.category() == condition_category() &&
           condition_category().equivalent(boost::system::error_code(code, *this), c.value());
}
} // namespace

const boost::system::error_category& category() noexcept {
    static const sf_category c;
    return c;
}
const boost::system::error_category& condition_category() noexcept {
    static const sf_condition_category c;
    return c;
}
boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), category()};
}
boost::system::error_condition make_error_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

std::string diagnostics::summary() const {
    std::string s = client_message;
    if (http_status)
        s += (s.empty() ? "" : ": ") + std::string("HTTP ") + std::to_string(http_status);
    if (!error_code.empty())
        s += (s.empty() ? "" : " ") + error_code;
    if (!message.empty())
        s += (s.empty() ? "" : ": ") + message;
    if (!fields.empty()) {
        s += " (fields:";
        for (const auto& f : fields)
            s += " " + f;
        s += ")";
    }
    return s;
}

} // namespace sfbridge::salesforce
