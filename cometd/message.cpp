#include "cometd/message.hpp"

namespace sfbridge::cometd {
namespace od = simdjson::ondemand;
using boost::system::error_code;

namespace {

class parse_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "sfbridge.cometd.parse"; }
    std::string message(int ev) const override {
        switch (static_cast<parse_errc>(ev)) {
        case parse_errc::not_json:
            return "the Bayeux response is not JSON";
        case parse_errc::not_an_array:
            return "the Bayeux response is not a JSON array";
        case parse_errc::bad_message:
            return "a Bayeux message is malformed";
        case parse_errc::too_large:
            return "the Bayeux response is over the size limit";
        }
        return "unknown Bayeux parse error";
    }
};

// Reads an optional string field; a value of another type is an error.
bool take_string(od::value v, std::string& out) {
    std::string_view s;
    if (v.get_string().get(s))
        return false;
    out.assign(s);
    return true;
}

} // namespace

const boost::system::error_category& parse_category() noexcept {
    static const parse_category_impl c;
    return c;
}

error_code make_error_code(parse_errc e) noexcept {
    return {static_cast<int>(e), parse_category()};
}

int message::error_code() const noexcept {
    if (error.size() < 3)
        return 0;
    int code = 0;
    for (int i = 0; i < 3; ++i) {
        const char c = error[static_cast<std::size_t>(i)];
        if (c < '0' || c > '9')
            return 0;
        code = code * 10 + (c - '0');
    }
    return code;
}

error_code message_parser::parse(std::string_view body, std::vector<message>& out,
                                 std::string& detail) {
    out.clear();
    detail.clear();
    if (body.size() > limits_.max_body_bytes)
        return parse_errc::too_large;
    od::document doc;
    if (parser_.iterate(body.data(), body.size(), body.size() + simdjson::SIMDJSON_PADDING)
            .get(doc)) {
        detail = "cannot start parsing";
        return parse_errc::not_json;
    }
    od::array messages;
    od::json_type type;
    if (doc.type().get(type)) {
        detail = "not a JSON value";
        return parse_errc::not_json;
    }
    if (type != od::json_type::array)
        return parse_errc::not_an_array;
    if (doc.get_array().get(messages)) {
        detail = "unbalanced or followed by other content";
        return parse_errc::not_json;
    }
    const char* buffer_end = body.data() + body.size() + simdjson::SIMDJSON_PADDING;
    std::size_t index = 0;
    for (auto element : messages) {
        od::object obj;
        if (element.get_object().get(obj)) {
            detail = "element " + std::to_string(index) + " is not an object";
            out.clear();
            return element.error() ? error_code(parse_errc::not_json)
                                   : error_code(parse_errc::bad_message);
        }
        if (out.size() >= limits_.max_messages) {
            out.clear();
            return parse_errc::too_large;
        }
        message m;
        if (auto ec = parse_one(obj, buffer_end, m, detail)) {
            detail = "message " + std::to_string(index) + ": " + detail;
            out.clear();
            return ec;
        }
        out.push_back(std::move(m));
        ++index;
    }
    // A truncated or trailing-garbage document shows up only at the end of iteration.
    // Fully consumed, current_location() has nothing left to point at (simdjson 3.0 has no
    // at_end()): anything else is trailing content.
    const char* rest = nullptr;
    if (!doc.current_location().get(rest)) {
        out.clear();
        detail = "content after the array";
        return parse_errc::not_json;
    }
    return {};
}

error_code message_parser::parse_one(od::object obj, const char* buffer_end, message& m,
                                     std::string& detail) {
    for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key)) {
            detail = "unreadable key";
            return parse_errc::not_json;
        }
        od::value v;
        if (field.value().get(v)) {
            detail = "unreadable value of " + std::string(key);
            return parse_errc::not_json;
        }
        bool ok = true;
        if (key == "channel") {
            ok = take_string(v, m.channel);
        } else if (key == "clientId") {
            ok = take_string(v, m.client_id);
        } else if (key == "error") {
            ok = take_string(v, m.error);
        } else if (key == "subscription") {
            ok = take_string(v, m.subscription);
        } else if (key == "id") {
            od::json_type t;
            ok = !v.type().get(t);
            if (ok && t == od::json_type::string)
                ok = take_string(v, m.id);
            else if (ok && t == od::json_type::number) {
                std::string_view raw = v.raw_json_token();
                while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' ||
                                        raw.back() == '\r' || raw.back() == '\t'))
                    raw.remove_suffix(1);
                m.id.assign(raw);
            } else
                ok = false;
        } else if (key == "successful") {
            bool b;
            ok = !v.get_bool().get(b);
            if (ok)
                m.successful = b;
        } else if (key == "advice") {
            od::object a;
            ok = !v.get_object().get(a);
            if (ok) {
                advice adv;
                for (auto af : a) {
                    std::string_view ak;
                    od::value av;
                    if (af.unescaped_key().get(ak) || af.value().get(av)) {
                        ok = false;
                        break;
                    }
                    std::int64_t n;
                    if (ak == "reconnect")
                        ok = take_string(av, adv.reconnect);
                    else if (ak == "interval")
                        ok = !av.get_int64().get(n) && ((adv.interval = n), true);
                    else if (ak == "timeout")
                        ok = !av.get_int64().get(n) && ((adv.timeout = n), true);
                    if (!ok)
                        break;
                }
                m.server_advice = adv;
            }
        } else if (key == "ext") {
            od::object e;
            ok = !v.get_object().get(e);
            if (ok)
                for (auto ef : e) {
                    std::string_view ek;
                    od::value ev;
                    if (ef.unescaped_key().get(ek) || ef.value().get(ev)) {
                        ok = false;
                        break;
                    }
                    if (ek == "replay") {
                        bool b;
                        if (!ev.get_bool().get(b))
                            m.replay_supported = b;
                    } else if (ek == "sfdc") {
                        od::object s;
                        if (ev.get_object().get(s))
                            continue;
                        for (auto sf : s) {
                            std::string_view sk;
                            od::value sv;
                            if (!sf.unescaped_key().get(sk) && sk == "failureReason" &&
                                !sf.value().get(sv))
                                (void)take_string(sv, m.failure_reason);
                        }
                    }
                }
        } else if (key == "data") {
            // Keep the server's text; find the replay id with a second, targeted parse of that
            // text (it lies inside the padded body, so simdjson may read past its end).
            std::string_view raw;
            od::object data_object;
            ok = !v.get_object().get(data_object) && !data_object.raw_json().get(raw);
            if (ok) {
                while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' ||
                                        raw.back() == '\r' || raw.back() == '\t'))
                    raw.remove_suffix(1);
                m.data.assign(raw);
                od::document d;
                od::object dobj;
                if (!data_parser_
                         .iterate(raw.data(), raw.size(),
                                  static_cast<std::size_t>(buffer_end - raw.data()))
                         .get(d) &&
                    !d.get_object().get(dobj)) {
                    std::int64_t replay;
                    if (!dobj.find_field_unordered("event")
                             .find_field_unordered("replayId")
                             .get_int64()
                             .get(replay))
                        m.replay_id = replay;
                }
            }
        }
        // Unknown fields are skipped: Bayeux allows extensions.
        if (!ok) {
            detail = "field \"" + std::string(key) + "\" has the wrong type";
            return parse_errc::bad_message;
        }
    }
    if (m.channel.empty()) {
        detail = "no channel";
        return parse_errc::bad_message;
    }
    return {};
}

} // namespace sfbridge::cometd
