#include "salesforce/push_topics.hpp"

#include "core/api_name.hpp"
#include "core/json_writer.hpp"

#include <map>
#include <set>

namespace sfbridge::salesforce {

namespace asio = boost::asio;
using boost::system::error_code;

std::string push_topic_name(std::string_view object) {
    constexpr std::size_t max_name = 25;
    std::string name = "hc_" + std::string(object);
    if (name.size() <= max_name)
        return name;
    std::uint32_t h = 2166136261u; // FNV-1a: stable across builds and platforms
    for (unsigned char c : object) {
        h ^= c;
        h *= 16777619u;
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string suffix = "_";
    for (int i = 7; i >= 0; --i)
        suffix += hex[(h >> (i * 4)) & 15];
    return "hc_" + std::string(object.substr(0, max_name - 3 - suffix.size())) + suffix;
}

std::optional<std::string> push_topic_query(std::string_view object,
                                            const std::vector<std::string>& fields,
                                            std::string& error) {
    const auto list = select_list(object, fields, error);
    if (!list)
        return std::nullopt;
    const std::string q = "SELECT " + *list + " FROM " + std::string(object);
    if (q.size() > 1300) {
        error = "the PushTopic query for " + std::string(object) + " is " +
                std::to_string(q.size()) + " characters, over Salesforce's 1,300";
        return std::nullopt;
    }
    return q;
}

std::vector<topic_action> plan_push_topics(const std::vector<topic_spec>& desired,
                                           const std::vector<existing_topic>& existing,
                                           std::vector<std::string>& errors) {
    std::map<std::string, const existing_topic*> ours;
    for (const auto& t : existing)
        if (t.name.rfind("hc_", 0) == 0 && t.description.rfind("sfbridge", 0) == 0)
            ours[t.name] = &t;
    std::vector<topic_action> plan;
    std::set<std::string> wanted;
    for (const auto& spec : desired) {
        topic_action a;
        a.object = spec.object;
        a.name = push_topic_name(spec.object);
        std::string error;
        auto q = push_topic_query(spec.object, spec.fields, error);
        if (!q) {
            if (!is_api_name(spec.object)) {
                errors.push_back("mapping " + spec.object + ": " + error);
                continue;
            }
            // Too long for a PushTopic: notify only, and fetch the records by id.
            const std::vector<std::string> minimal{"Id", "SystemModstamp"};
            q = push_topic_query(spec.object, minimal, error);
            if (!q) {
                errors.push_back("mapping " + spec.object + ": " + error);
                continue;
            }
            a.fetch_on_notify = true;
        }
        a.query = *q;
        wanted.insert(a.name);
        auto it = ours.find(a.name);
        if (it == ours.end()) {
            a.what = topic_action::kind::create;
        } else {
            a.id = it->second->id;
            a.what = it->second->query == a.query && it->second->active
                         ? topic_action::kind::keep
                         : topic_action::kind::update;
        }
        plan.push_back(std::move(a));
    }
    // Removals first: at the org's PushTopic limit, the slot a dropped mapping frees is there
    // for a new one.
    std::vector<topic_action> removals;
    for (const auto& [name, t] : ours)
        if (!wanted.count(name)) {
            topic_action a;
            a.what = topic_action::kind::remove;
            a.id = t->id;
            a.name = name;
            removals.push_back(std::move(a));
        }
    plan.insert(plan.begin(), removals.begin(), removals.end());
    return plan;
}

asio::awaitable<error_code>
list_push_topics(rest_client& rest, std::vector<existing_topic>& existing, diagnostics& diag) {
    existing.clear();
    co_return co_await rest.query(
        "SELECT Id, Name, Query, IsActive, Description FROM PushTopic WHERE Name LIKE 'hc\\_%'",
        false, 0,
        [&](query_page& page) -> asio::awaitable<error_code> {
            for (const auto& r : page.records) {
                existing_topic t;
                auto text = [&](const char* f) {
                    const auto* v = r.get(f);
                    return v ? v->raw : std::string();
                };
                t.id = text("Id");
                t.name = text("Name");
                t.query = text("Query");
                t.description = text("Description");
                t.active = text("IsActive") != "false";
                existing.push_back(std::move(t));
            }
            co_return error_code{};
        },
        diag);
}

asio::awaitable<error_code> ensure_push_topics(rest_client& rest,
                                               const std::vector<topic_spec>& desired,
                                               std::vector<provisioned_topic>& out,
                                               diagnostics& diag) {
    out.clear();
    std::vector<existing_topic> existing;
    auto ec = co_await list_push_topics(rest, existing, diag);
    if (ec)
        co_return ec;

    std::vector<std::string> errors;
    const auto plan = plan_push_topics(desired, existing, errors);
    if (!errors.empty()) {
        diag.client_message = errors.front();
        co_return errc::api_error;
    }
    for (const auto& a : plan) {
        std::string body;
        json::writer w(body);
        rest_response r;
        switch (a.what) {
        case topic_action::kind::keep:
            break;
        case topic_action::kind::create:
        case topic_action::kind::update:
            w.begin_object();
            if (a.what == topic_action::kind::create)
                w.member("Name", a.name);
            w.member("Query", a.query);
            w.key("ApiVersion").raw(rest.api_version());
            w.member("NotifyForFields", a.fetch_on_notify ? "All" : "Referenced");
            w.member("NotifyForOperationCreate", true);
            w.member("NotifyForOperationUpdate", true);
            w.member("NotifyForOperationDelete", true);
            w.member("NotifyForOperationUndelete", true);
            w.member("IsActive", true);
            w.member("Description", topic_description);
            w.end_object();
            if (a.what == topic_action::kind::create)
                ec = co_await rest.async_call(net::http::verb::post,
                                              rest.data_path("/sobjects/PushTopic"),
                                              std::move(body), r, diag);
            else
                ec = co_await rest.async_call(net::http::verb::patch,
                                              rest.data_path("/sobjects/PushTopic/" + a.id),
                                              std::move(body), r, diag);
            break;
        case topic_action::kind::remove:
            ec = co_await rest.async_call(net::http::verb::delete_,
                                          rest.data_path("/sobjects/PushTopic/" + a.id), "", r,
                                          diag);
            break;
        }
        if (ec && a.what == topic_action::kind::create && diag.error_code == "LIMIT_EXCEEDED") {
            out.push_back(provisioned_topic{a.object, a.name, a.fetch_on_notify, true});
            diag = diagnostics{};
            ec = {}; // a `keep` after it assigns nothing
            continue;
        }
        if (ec) {
            diag.client_message = "PushTopic " + a.name + ": " + diag.client_message;
            co_return ec;
        }
        if (a.what != topic_action::kind::remove)
            out.push_back(provisioned_topic{a.object, a.name, a.fetch_on_notify, false});
    }
    co_return error_code{};
}

} // namespace sfbridge::salesforce
