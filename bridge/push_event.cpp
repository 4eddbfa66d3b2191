#include "bridge/push_event.hpp"

namespace sfbridge::bridge {

namespace od = simdjson::ondemand;

bool push_event_reader::read(std::string_view data, push_event& out, std::string& error) {
    out.type.clear();
    out.created_date.clear();
    out.replay_id = 0;
    out.sobject = salesforce::flat_record{};
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
            saw_event = true;
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
    if (!saw_event || !saw_sobject || out.type.empty()) {
        error = "the event data has no event type or no sobject";
        return false;
    }
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

} // namespace sfbridge::bridge
