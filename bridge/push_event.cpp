#include "bridge/push_event.hpp"

#include "core/calendar.hpp"
#include "core/value_kind.hpp"

namespace sfbridge::bridge {

namespace od = simdjson::ondemand;

namespace {

// The ChangeEventHeader's changeType, commitTimestamp and recordIds.
bool read_header(od::object h, std::string& change_type, std::int64_t& commit_ms, push_event& out,
                 std::string& error) {
    for (auto hf : h) {
        std::string_view k, v;
        if (hf.unescaped_key().get(k)) {
            error = "the ChangeEventHeader is malformed";
            return false;
        }
        if (k == "changeType" && !hf.value().get_string().get(v)) {
            change_type = v;
        } else if (k == "commitTimestamp") {
            std::int64_t t = 0;
            if (!hf.value().get_int64().get(t))
                commit_ms = t;
        } else if (k == "recordIds") {
            od::array ids;
            if (hf.value().get_array().get(ids)) {
                error = "the ChangeEventHeader's recordIds is not an array";
                return false;
            }
            for (auto id : ids) {
                std::string_view id_text;
                if (id.get_string().get(id_text)) {
                    error = "a record id in the ChangeEventHeader is not a string";
                    return false;
                }
                out.record_ids.emplace_back(id_text);
            }
        }
    }
    return true;
}

// CDC's changeType as the PushTopic event type (GAP_* as "gap").
bool set_change_type(const std::string& change_type, push_event& out, std::string& error) {
    static constexpr std::pair<std::string_view, std::string_view> types[] = {
        {"CREATE", "created"},
        {"UPDATE", "updated"},
        {"DELETE", "deleted"},
        {"UNDELETE", "undeleted"}};
    for (const auto& [from, to] : types)
        if (change_type == from)
            out.type = to;
    if (change_type.starts_with("GAP_")) {
        out.type = "gap";
        out.overflow = change_type == "GAP_OVERFLOW";
    }
    if (out.type.empty()) {
        error = "unknown change type \"" + change_type + "\"";
        return false;
    }
    if (out.record_ids.empty() && !out.overflow) {
        error = "the change event names no record";
        return false;
    }
    return true;
}

// The PushTopic event's "event" member: type, createdDate, replayId.
bool read_event_member(od::object e, push_event& out, std::string& error) {
    for (auto f : e) {
        std::string_view k;
        if (f.unescaped_key().get(k)) {
            error = "the event data is malformed";
            return false;
        }
        std::string_view v;
        if (k == "type" && !f.value().get_string().get(v))
            out.type = v;
        else if (k == "createdDate" && !f.value().get_string().get(v))
            out.created_date = v;
        else if (k == "replayId") {
            std::int64_t id = 0;
            if (!f.value().get_int64().get(id))
                out.replay_id = id;
        }
    }
    return true;
}

// What a whole PushTopic event must have.
bool check_push_topic_event(const push_event& out, std::string& error) {
    if (out.type != "created" && out.type != "updated" && out.type != "deleted" &&
        out.type != "undeleted") {
        error = "unknown event type \"" + out.type + "\"";
        return false;
    }
    if (!out.sobject.get("Id")) {
        error = "the event's sobject has no Id";
        return false;
    }
    return true;
}

} // namespace

bool push_event_reader::read_change_event(od::object payload, push_event& out, std::string& error) {
    out.change_event = true;
    std::string change_type;
    std::int64_t commit_ms = -1;
    for (auto f : payload) {
        std::string_view key;
        if (f.unescaped_key().get(key)) {
            error = "the change event is malformed";
            return false;
        }
        if (key != "ChangeEventHeader")
            continue;
        od::object h;
        if (f.value().get_object().get(h)) {
            error = "the ChangeEventHeader is not an object";
            return false;
        }
        if (!read_header(h, change_type, commit_ms, out, error))
            return false;
    }
    if (change_type.empty() || commit_ms < 0) {
        error = "the change event has no ChangeEventHeader with changeType and commitTimestamp";
        return false;
    }
    if (!set_change_type(change_type, out, error))
        return false;
    out.created_date = calendar::format_utc(commit_ms, 'T', true);
    if (out.type == "created" || out.type == "undeleted") {
        // The body again, for the fields (the header, an object, is skipped).
        if (payload.reset().error() ||
            !salesforce::record_reader::read_object(payload, out.sobject, error))
            return false;
        using salesforce::field_value;
        const auto text = sf_value_kind::json_string;
        out.sobject.fields.push_back(field_value{"Id", text, out.record_ids.front()});
        out.sobject.fields.push_back(field_value{"SystemModstamp", text, out.created_date});
        out.sobject.fields.push_back(field_value{"IsDeleted", sf_value_kind::json_bool, "false"});
    }
    return true;
}

bool push_event_reader::read(std::string_view data, push_event& out, std::string& error) {
    out.type.clear();
    out.created_date.clear();
    out.replay_id = 0;
    out.sobject = salesforce::flat_record{};
    out.change_event = false;
    out.record_ids.clear();
    out.overflow = false;
    buffer_.assign(data);
    buffer_.append(simdjson::SIMDJSON_PADDING, ' ');
    od::document doc;
    od::object root;
    if (parser_.iterate(simdjson::padded_string_view(buffer_.data(), data.size(), buffer_.size()))
            .get(doc) ||
        doc.get_object().get(root)) {
        error = "the event data is not a JSON object";
        return false;
    }
    bool saw_event = false, saw_sobject = false;
    for (auto m : root) {
        std::string_view key;
        if (m.unescaped_key().get(key)) {
            error = "the event data is malformed";
            return false;
        }
        if (key == "event") {
            od::object e;
            if (m.value().get_object().get(e)) {
                error = "the event's \"event\" is not an object";
                return false;
            }
            if (!read_event_member(e, out, error))
                return false;
            saw_event = true;
        } else if (key == "payload") {
            od::object p;
            if (m.value().get_object().get(p)) {
                error = "the event's \"payload\" is not an object";
                return false;
            }
            if (!read_change_event(p, out, error))
                return false;
            saw_sobject = true;
        } else if (key == "sobject") {
            od::object s;
            if (m.value().get_object().get(s)) {
                error = "the event's \"sobject\" is not an object";
                return false;
            }
            if (!salesforce::record_reader::read_object(s, out.sobject, error))
                return false;
            saw_sobject = true;
        }
    }
    if (out.change_event) {
        if (!saw_event)
            error = "the change event has no \"event\"";
        return saw_event;
    }
    if (!saw_event || !saw_sobject || out.type.empty()) {
        error = "the event data has no event type or no sobject";
        return false;
    }
    return check_push_topic_event(out, error);
}

} // namespace sfbridge::bridge
