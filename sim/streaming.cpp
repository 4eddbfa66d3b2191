#include "sim/streaming.hpp"

#include "core/json_writer.hpp"
#include "sim/ids.hpp"
#include "sim/record_json.hpp"

#include <algorithm>

namespace sfbridge::sim {

void channel_log::append(stream_event e) {
    latest_ = e.replay_id;
    events_.push_back(std::move(e));
    while (events_.size() > max_count_) {
        floor_ = events_.front().replay_id;
        events_.pop_front();
    }
}

void channel_log::expire(std::int64_t now_ms) {
    while (!events_.empty() && events_.front().created_ms + max_age_.count() < now_ms) {
        floor_ = events_.front().replay_id;
        events_.pop_front();
    }
}

std::deque<stream_event>::const_iterator channel_log::after(std::int64_t position) const {
    // Replay ids increase: binary search.
    return std::upper_bound(events_.begin(), events_.end(), position,
                            [](std::int64_t p, const stream_event& e) { return p < e.replay_id; });
}

streaming::streaming(org& data, retention_config cfg, std::uint64_t seed)
    : data_(data), cfg_(cfg), rng_(seed) {
    data_.add_listener([this](const change& c) { on_change(c); });
    data_.set_validator("PushTopic", [this](const object_def& o, const record* existing,
                                            const std::vector<field_value>& in, sf_error& err) {
        return validate_push_topic(o, existing, in, err);
    });
}

channel_log* streaming::find(std::string_view channel) noexcept {
    auto it = channels_.find(channel);
    if (it != channels_.end())
        return it->second.get();
    // A channel exists once its topic or object does, even before its first event.
    if (channel.starts_with("/topic/")) {
        const auto name = channel.substr(7);
        for (const auto& [id, t] : topics_)
            if (t.name == name)
                return &log_for(std::string(channel), cfg_.push_topic_age);
        return nullptr;
    }
    if (channel == "/data/ChangeEvents")
        return &log_for(std::string(channel), cfg_.change_event_age);
    for (const auto& o : data_.objects().objects())
        if (o->name != "PushTopic" && change_event_channel(*o) == channel)
            return &log_for(std::string(channel), cfg_.change_event_age);
    return nullptr;
}

std::string streaming::change_event_channel(const object_def& o) {
    if (o.name.ends_with("__c"))
        return "/data/" + o.name.substr(0, o.name.size() - 3) + "__ChangeEvent";
    return "/data/" + o.name + "ChangeEvent";
}

channel_log& streaming::log_for(const std::string& channel, std::chrono::milliseconds age) {
    auto it = channels_.find(channel);
    if (it == channels_.end()) {
        // Replay ids start at an arbitrary point, as they do in a real org.
        const std::int64_t first = 1 + static_cast<std::int64_t>(rng_() % 5000);
        it = channels_
                 .emplace(channel, std::make_unique<channel_log>(
                                       channel, age, cfg_.max_events_per_channel, first))
                 .first;
    }
    return *it->second;
}

std::int64_t streaming::inject(const std::string& channel, const std::string& type,
                               std::string_view sobject_json) {
    channel_log& log = log_for(channel, cfg_.push_topic_age);
    const std::int64_t replay_id = log.latest() + 1;
    const std::int64_t now = data_.now_ms();
    std::string msg;
    json::writer w(msg);
    w.begin_object().member("channel", channel).key("data").begin_object();
    w.key("event")
        .begin_object()
        .member("createdDate", format_datetime(now))
        .member("replayId", replay_id)
        .member("type", type)
        .end_object();
    w.key("sobject").raw(sobject_json);
    w.end_object().end_object();
    publish(log, {replay_id, now, now, std::move(msg)});
    return replay_id;
}

void streaming::lose_retention() {
    for (auto& [name, log] : channels_)
        log->lose_all();
}

void streaming::expire() {
    const std::int64_t now = data_.now_ms();
    for (auto& [name, log] : channels_)
        log->expire(now);
}

void streaming::reset() {
    channels_.clear();
    topics_.clear();
}

void streaming::on_change(const change& c) {
    if (c.object->name == "PushTopic") {
        if (c.type == change_type::deleted)
            topics_.erase(c.rec->id);
        else
            refresh_topic(*c.rec);
        return;
    }
    // Bulk API changes raise no PushTopic events; Change Data Capture sees everything.
    if (!c.bulk)
        for (const auto& [id, t] : topics_)
            if (t.query.object == c.object)
                publish_push_topic(t, c);
    publish_change_event(c);
}

void streaming::refresh_topic(const record& r) {
    const object_def& pt = *data_.objects().find("PushTopic");
    auto text = [&](const char* f) {
        const auto* s = std::get_if<std::string>(&r.get(pt.index_of(f)));
        return s ? *s : std::string();
    };
    auto flag = [&](const char* f) {
        const auto* b = std::get_if<bool>(&r.get(pt.index_of(f)));
        return b ? *b : true;
    };
    if (!flag("IsActive")) {
        topics_.erase(r.id);
        return;
    }
    topic t;
    t.id = r.id;
    t.name = text("Name");
    soql::error err;
    if (!soql::parse(text("Query"), data_.objects(), t.query, err, true))
        return; // validated on write; cannot happen
    t.referenced = t.query.fields;
    t.referenced.insert(t.referenced.end(), t.query.where_fields.begin(),
                        t.query.where_fields.end());
    t.notify_for_fields = text("NotifyForFields");
    t.on_create = flag("NotifyForOperationCreate");
    t.on_update = flag("NotifyForOperationUpdate");
    t.on_delete = flag("NotifyForOperationDelete");
    t.on_undelete = flag("NotifyForOperationUndelete");
    topics_[r.id] = std::move(t);
}

bool streaming::validate_push_topic(const object_def& pt, const record* existing,
                                    const std::vector<field_value>& in, sf_error& err) {
    auto current = [&](const char* name) -> value {
        const int i = pt.index_of(name);
        for (const auto& fv : in)
            if (fv.field == i)
                return fv.v;
        return existing ? existing->get(i) : value{};
    };
    std::size_t topics = 0; // inactive ones count too
    for (const auto& r : data_.records(pt))
        topics += r->deleted ? 0 : 1;
    if (!existing && topics >= cfg_.push_topic_limit) {
        err = {"LIMIT_EXCEEDED",
               "The maximum number of PushTopics (" + std::to_string(cfg_.push_topic_limit) +
                   ") for this organization has been reached",
               {}};
        return false;
    }
    const value name = current("Name");
    if (const auto* s = std::get_if<std::string>(&name)) {
        if (s->size() > 25) {
            err = {"STRING_TOO_LONG",
                   "Topic Name: data value too large: " + *s + " (max length=25)",
                   {"Name"}};
            return false;
        }
        for (const auto& r : data_.records(pt))
            if (!r->deleted && r.get() != existing && r->get(pt.index_of("Name")) == name) {
                err = {"DUPLICATE_VALUE",
                       "duplicate value found: Name duplicates value on record with id: " + r->id,
                       {"Name"}};
                return false;
            }
    }
    const value api_version = current("ApiVersion");
    if (const auto* v = std::get_if<double>(&api_version); v && *v <= 20.0) {
        err = {"FIELD_INTEGRITY_EXCEPTION", "ApiVersion must be greater than 20.0", {"ApiVersion"}};
        return false;
    }
    const value query_value = current("Query");
    const auto* query_text = std::get_if<std::string>(&query_value);
    if (!query_text)
        return true; // "required" is reported by the field checks
    soql::query q;
    soql::error perr;
    if (!soql::parse(*query_text, data_.objects(), q, perr, true)) {
        err = {perr.code, perr.message, {"Query"}};
        return false;
    }
    auto refuse = [&](const std::string& message) {
        err = {"INVALID_FIELD", message, {"Query"}};
        return false;
    };
    // The reference's texts for what PushTopic queries may not use.
    if (q.has_semi_join)
        return refuse("semi/anti join sub-selects are not supported");
    if (q.has_aggregate || q.has_group_by || q.count_only)
        return refuse("Aggregate queries are not supported");
    if (q.limit)
        return refuse("'LIMIT' is not allowed");
    if (q.has_relationship)
        return refuse("relationships are not supported");
    if (!q.order_by.empty())
        return refuse("'ORDER BY' clause is not allowed");
    if (q.has_not)
        return refuse("'NOT' is not supported");
    if (q.offset)
        return refuse("'OFFSET' clause is not allowed");
    if (q.has_typeof)
        return refuse("'TYPEOF' clause is not allowed");
    const int id_field = q.object->index_of("Id");
    if (std::find(q.fields.begin(), q.fields.end(), id_field) == q.fields.end())
        return refuse("the SELECT clause of a PushTopic query must include Id");
    for (int f : q.where_fields) {
        const field_def& fd = q.object->fields[static_cast<std::size_t>(f)];
        if (fd.type == field_type::textarea)
            return refuse("text area fields cannot be used in a PushTopic WHERE clause: " +
                          fd.name);
        if (fd.calculated)
            return refuse("formula fields cannot be used in a PushTopic WHERE clause: " + fd.name);
    }
    const value nff = current("NotifyForFields");
    const auto* nff_text = std::get_if<std::string>(&nff);
    if ((!nff_text || *nff_text == "Referenced") &&
        std::all_of(q.fields.begin(), q.fields.end(), [&](int f) { return f == id_field; }) &&
        q.where_fields.empty())
        return refuse("a PushTopic with NotifyForFields Referenced must reference a field other "
                      "than Id");
    return true;
}

void streaming::publish_push_topic(const topic& t, const change& c) {
    const object_def& o = *c.object;
    bool wanted = false;
    switch (c.type) {
    case change_type::created:
        wanted = t.on_create;
        break;
    case change_type::deleted:
        wanted = t.on_delete;
        break;
    case change_type::undeleted:
        wanted = t.on_undelete;
        break;
    case change_type::updated: {
        if (!t.on_update)
            break;
        auto changed_any = [&](const std::vector<int>& fields) {
            return std::any_of(fields.begin(), fields.end(), [&](int f) {
                return std::find(c.changed_fields.begin(), c.changed_fields.end(), f) !=
                       c.changed_fields.end();
            });
        };
        if (t.notify_for_fields == "All")
            wanted = true;
        else if (t.notify_for_fields == "Select")
            wanted = changed_any(t.query.fields);
        else if (t.notify_for_fields == "Where")
            wanted = changed_any(t.query.where_fields);
        else
            wanted = changed_any(t.referenced);
        break;
    }
    }
    if (!wanted || !soql::matches(t.query, *c.rec))
        return;
    const std::string channel = "/topic/" + t.name;
    channel_log& log = log_for(channel, cfg_.push_topic_age);
    const std::int64_t replay_id = log.latest() + 1 + static_cast<std::int64_t>(rng_() % 3);
    std::string msg;
    msg.reserve(256);
    json::writer w(msg);
    w.begin_object().member("channel", channel).key("data").begin_object();
    w.key("event")
        .begin_object()
        .member("createdDate", format_datetime(c.commit_ms))
        .member("replayId", replay_id)
        .member("type", to_string(c.type))
        .end_object();
    w.key("sobject").begin_object();
    const bool id_only = c.type == change_type::deleted && cfg_.deleted_events_id_only;
    for (int f : t.query.fields) {
        if (id_only && o.fields[static_cast<std::size_t>(f)].name != "Id")
            continue;
        if (o.fields[static_cast<std::size_t>(f)].hidden) // removed since the topic was made
            continue;
        w.key(o.fields[static_cast<std::size_t>(f)].name);
        write_value(w, o, *c.rec, f);
    }
    w.end_object().end_object().end_object();
    publish(log, {replay_id, data_.now_ms(), c.commit_ms, std::move(msg)});
}

void streaming::publish(channel_log& log, stream_event e) {
    log.append(std::move(e));
    if (listener_)
        listener_(log);
}

void streaming::publish_change_event(const change& c) {
    const object_def& o = *c.object;
    if (!data_.cdc_selected(o.name)) // not selected for Change Data Capture: no event
        return;
    static constexpr const char* change_types[] = {"CREATE", "UPDATE", "DELETE", "UNDELETE"};
    const char* type = change_types[static_cast<int>(c.type)];
    const std::string key =
        c.transaction_key.empty() ? ids::make("tx1", rng_()) : c.transaction_key;
    const int sequence = ++sequence_in_transaction_[key];
    if (sequence_in_transaction_.size() > 10000)
        sequence_in_transaction_.clear();
    const std::int64_t commit_number = ++next_commit_number_;

    // Body rules: create and undelete carry every non-empty field; update only the changed
    // ones; delete none. Id, IsDeleted and SystemModstamp are never in the body.
    std::vector<int> body_fields;
    const int id = o.index_of("Id"), is_deleted = o.index_of("IsDeleted"),
              stamp = o.index_of("SystemModstamp");
    auto eligible = [&](int f) {
        const auto& fd = o.fields[static_cast<std::size_t>(f)];
        return f != id && f != is_deleted && f != stamp && fd.type != field_type::address &&
               fd.type != field_type::location && !fd.hidden;
    };
    if (c.type == change_type::created || c.type == change_type::undeleted) {
        for (const auto& [f, v] : c.rec->fields)
            if (eligible(f))
                body_fields.push_back(f);
    } else if (c.type == change_type::updated) {
        for (int f : c.changed_fields)
            if (eligible(f) && o.fields[static_cast<std::size_t>(f)].name != "LastModifiedById")
                body_fields.push_back(f);
    }

    for (const std::string& channel :
         {std::string("/data/ChangeEvents"), change_event_channel(o)}) {
        channel_log& log = log_for(channel, cfg_.change_event_age);
        const std::int64_t replay_id = log.latest() + 1 + static_cast<std::int64_t>(rng_() % 3);
        std::string msg;
        msg.reserve(512);
        json::writer w(msg);
        w.begin_object().member("channel", channel).key("data").begin_object();
        w.member("schema", "sfsim-" + o.name + "-v1");
        w.key("payload").begin_object();
        w.key("ChangeEventHeader").begin_object();
        w.member("entityName", o.name);
        w.key("recordIds").begin_array().string(c.rec->id).end_array();
        w.member("changeType", type);
        w.member("changeOrigin",
                 c.bulk ? "com/salesforce/api/bulk/62.0" : "com/salesforce/api/rest/62.0");
        w.member("transactionKey", key);
        w.member("sequenceNumber", sequence);
        w.member("isTransactionEnd", true);
        w.member("commitTimestamp", c.commit_ms);
        w.member("commitNumber", commit_number);
        w.member("commitUser", data_.user_id());
        w.key("changedFields").begin_array();
        if (c.type == change_type::updated)
            for (int f : body_fields)
                w.string(o.fields[static_cast<std::size_t>(f)].name);
        w.end_array();
        w.end_object();
        for (int f : body_fields) {
            w.key(o.fields[static_cast<std::size_t>(f)].name);
            const value& v = c.rec->get(f);
            // CDC's JSON gives datetimes in ISO form with Z.
            if (const auto* s = std::get_if<std::string>(&v);
                s && o.fields[static_cast<std::size_t>(f)].type == field_type::datetime)
                w.string(*s);
            else
                write_value(w, o, *c.rec, f);
        }
        w.end_object();
        w.key("event").begin_object().member("replayId", replay_id).end_object();
        w.end_object().end_object();
        publish(log, {replay_id, data_.now_ms(), c.commit_ms, std::move(msg)});
    }
}

} // namespace sfbridge::sim
