#pragma once

#include "salesforce/rest_client.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// PushTopic provisioning. Each streamed mapping gets exactly one active topic named
// hc_<something> (at most 25 characters, derived from the object name only, so a restart finds
// its own topics again) whose query selects the mapped fields. A query over 1,300 characters
// falls back to selecting Id and SystemModstamp, and the mapping is then "fetch on notify".
// Topics are updated when the fields change and deleted when their mapping is gone. Ownership:
// sfbridge only changes or deletes topics whose name starts with hc_ and whose Description
// starts with "sfbridge", so topics of anyone else, Heroku Connect's own hc_ topics included
// (during a migration both may run), are left alone.
namespace sfbridge::salesforce {

struct topic_spec {
    std::string object;
    std::vector<std::string> fields;
};

struct existing_topic {
    std::string id;
    std::string name;
    std::string query;
    std::string description;
    bool active = true;
};

struct topic_action {
    enum class kind { create, update, remove, keep } what = kind::keep;
    std::string id; // update, remove, keep
    std::string object;
    std::string name;
    std::string query;
    bool fetch_on_notify = false;
};

struct provisioned_topic {
    std::string object;
    std::string name; // subscribe to /topic/<name>
    bool fetch_on_notify = false;
    // Salesforce refused to create it (LIMIT_EXCEEDED: the org's PushTopic allocation, 40 to
    // 100 by edition, is used up): there is nothing to subscribe to.
    bool over_limit = false;
};

// hc_<Object> when it fits in 25 characters, else hc_<first 13>_<8 hex digits of a hash>.
[[nodiscard]] std::string push_topic_name(std::string_view object);

// A PushTopic's query: the fields with Id first (each once, however it is spelled), as
// "SELECT Id, A, B FROM Object"; nullopt with `error` for a name that is not an API name or a
// query past Salesforce's 1,300 characters.
[[nodiscard]] std::optional<std::string> push_topic_query(std::string_view object,
                                                          const std::vector<std::string>& fields,
                                                          std::string& error);
inline constexpr std::string_view topic_description = "sfbridge: managed topic, do not edit";

// Pure: what to do to go from `existing` to `desired`. Errors (a name that is not an API name)
// go to `errors` and the spec is skipped.
[[nodiscard]] std::vector<topic_action>
plan_push_topics(const std::vector<topic_spec>& desired,
                 const std::vector<existing_topic>& existing, std::vector<std::string>& errors);

// The org's hc_ topics, sfbridge's and anyone else's.
boost::asio::awaitable<boost::system::error_code>
list_push_topics(rest_client& rest, std::vector<existing_topic>& existing, diagnostics& diag);

// Reads the org's hc_ topics, applies the plan, and returns what each spec subscribes to. A
// create refused for the org's PushTopic limit does not fail the rest: that spec comes back
// `over_limit`, and the ones after it are still tried (an update or a smaller org may fit).
boost::asio::awaitable<boost::system::error_code>
ensure_push_topics(rest_client& rest, const std::vector<topic_spec>& desired,
                   std::vector<provisioned_topic>& out, diagnostics& diag);

} // namespace sfbridge::salesforce
