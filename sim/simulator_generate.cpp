// The simulator's generators of record changes: POST /__sim/generate starts one (creates,
// updates, deletes or a mix, at a rate or as fast as possible) and GET /__sim/generate/<job>
// tells how far it has got.
#include "core/json_writer.hpp"
#include "sim/simulator.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <simdjson.h>

#include <charconv>
#include <stdexcept>

namespace sfbridge::sim {
namespace od = simdjson::ondemand;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Values for generated records: deterministic from the sequence number, valid for the field.
value generated_value(const field_def& f, std::uint64_t n) {
    switch (f.type) {
    case field_type::boolean:
        return n % 2 == 0;
    case field_type::integer:
        return static_cast<double>(n % 1000);
    case field_type::double_:
    case field_type::currency:
    case field_type::percent:
        return static_cast<double>(n % 90) + 0.5;
    case field_type::date:
        return format_datetime(static_cast<std::int64_t>(n % 20000) * 86400000LL).substr(0, 10);
    case field_type::datetime:
        return format_datetime(1700000000000LL + static_cast<std::int64_t>(n % 100000000) * 1000);
    case field_type::time:
        return std::string("10:30:00.000Z");
    case field_type::picklist:
    case field_type::multipicklist:
        if (!f.picklist_values.empty())
            return f.picklist_values[n % f.picklist_values.size()];
        return std::string("Value");
    case field_type::email:
        return "user" + std::to_string(n) + "@example.com";
    case field_type::phone:
        return "+1 415 555 " + std::to_string(1000 + n % 9000);
    case field_type::url:
        return "https://example.com/" + std::to_string(n);
    default: {
        std::string s = f.name.substr(0, 8) + " " + std::to_string(n);
        if (f.length > 0 && static_cast<int>(s.size()) > f.length)
            s.resize(static_cast<std::size_t>(f.length));
        return s;
    }
    }
}

// The fields a generator writes: the required ones and a handful of plain ones (not the parts
// of an address or a location, which would need to agree with each other).
std::vector<int> generated_fields(const object_def& o) {
    std::vector<int> out;
    for (std::size_t i = 0; i < o.fields.size(); ++i) {
        const field_def& f = o.fields[i];
        const field_def* compound =
            f.compound_field_name.empty() ? nullptr : o.find(f.compound_field_name);
        if (!f.createable || !f.updateable || f.type == field_type::reference ||
            f.type == field_type::base64 || f.type == field_type::encryptedstring ||
            f.external_id || f.unique || f.calculated ||
            (compound &&
             (compound->type == field_type::address || compound->type == field_type::location)))
            continue;
        const bool required =
            !f.nillable && !f.defaulted_on_create && f.type != field_type::boolean;
        if (required || out.size() < 12)
            out.push_back(static_cast<int>(i));
    }
    return out;
}

// What POST /__sim/generate asks for.
struct generate_request {
    std::string object = "Contact";
    std::string kind = "mixed";
    std::string stamp_field;
    std::int64_t count = 1;
    double rate = 0;
    bool bulk = false;
};

// Reads POST /__sim/generate's settings; the error response when one has the wrong type.
std::optional<response> read_generate_request(od::object obj, generate_request& g) {
    for (auto m : obj) {
        std::string_view k, s;
        if (m.unescaped_key().get(k))
            continue;
        od::value v = m.value();
        if (k == "object" && !v.get_string().get(s))
            g.object = std::string(s);
        else if (k == "kind" && !v.get_string().get(s))
            g.kind = std::string(s);
        else if (k == "stamp_field" && !v.get_string().get(s))
            g.stamp_field = std::string(s);
        else if ((k == "count" && v.get_int64().get(g.count)) ||
                 (k == "rate" && v.get_double().get(g.rate)) ||
                 (k == "bulk" && v.get_bool().get(g.bulk)))
            return control_error(http::status::bad_request,
                                 "generate: " + std::string(k) + " has the wrong type");
    }
    return std::nullopt;
}

} // namespace

asio::awaitable<void> simulator::generate(std::string object, std::string kind, long count,
                                          double rate, bool bulk, std::string stamp_field,
                                          std::uint64_t job) {
    const object_def* o = schema_.find(object);
    generator_state& st = generators_[job];
    st.total = count;
    if (!o) {
        st.error = "unknown object " + object;
        st.finished = true;
        co_return;
    }
    std::vector<int> fields = generated_fields(*o);
    // A benchmark's clock: every create and update also writes the wall-clock time in
    // microseconds into this field, just before the save (SystemModstamp has milliseconds only).
    const int stamp = stamp_field.empty() ? -1 : o->index_of(stamp_field);
    std::erase(fields, stamp);
    const auto stamp_now = [] {
        return std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
    };
    std::vector<std::string> live;
    for (const auto& r : data_->records(*o))
        if (!r->deleted)
            live.push_back(r->id);
    asio::steady_timer pace(ex_);
    const auto start = std::chrono::steady_clock::now();
    write_options wo;
    wo.bulk = bulk;
    for (long i = 0; i < count && !stopped_; ++i) {
        const std::uint64_t n = rng_();
        std::string op = kind;
        if (kind == "mixed") {
            const auto pick = n % 100;
            op = pick < 30 ? "create" : (pick < 90 ? "update" : "delete");
        }
        if (op != "create" && live.empty())
            op = "create";
        sf_error err;
        if (op == "create") {
            std::vector<field_value> in;
            for (int f : fields)
                in.push_back({f, generated_value(o->fields[static_cast<std::size_t>(f)], n)});
            if (stamp >= 0)
                in.push_back({stamp, stamp_now()});
            const std::string id = data_->create(*o, std::move(in), wo, err);
            if (!id.empty())
                live.push_back(id);
        } else if (op == "update") {
            const std::string& id = live[n % live.size()];
            std::vector<field_value> in;
            if (!fields.empty()) { // (an object may have no field the generator can write)
                const int f = fields[(n >> 8) % fields.size()];
                in.push_back({f, generated_value(o->fields[static_cast<std::size_t>(f)], n >> 16)});
            }
            if (stamp >= 0)
                in.push_back({stamp, stamp_now()});
            (void)data_->update(*o, id, std::move(in), wo, err);
        } else {
            const std::size_t k = n % live.size();
            (void)data_->remove(*o, live[k], wo, err);
            live[k] = live.back();
            live.pop_back();
        }
        st.done = i + 1;
        if (rate > 0) {
            const auto due =
                start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>((i + 1) / rate));
            if (due > std::chrono::steady_clock::now()) {
                pace.expires_at(due);
                (void)co_await pace.async_wait(use_tuple);
            }
        } else if (i % 1000 == 999) {
            // Let the server deliver while generating as fast as possible.
            pace.expires_after(std::chrono::milliseconds(0));
            (void)co_await pace.async_wait(use_tuple);
        }
    }
    st.finished = true;
}

// GET /__sim/generate/<job>
response simulator::generator_status(std::string_view job_text) {
    std::uint64_t job = 0;
    std::from_chars(job_text.data(), job_text.data() + job_text.size(), job);
    auto it = generators_.find(job);
    if (it == generators_.end())
        return control_error(http::status::not_found, "no such generator");
    std::string out;
    json::writer w(out);
    w.begin_object()
        .member("done", static_cast<std::int64_t>(it->second.done))
        .member("failed", static_cast<std::int64_t>(it->second.failed))
        .member("total", static_cast<std::int64_t>(it->second.total))
        .member("finished", it->second.finished);
    if (!it->second.error.empty())
        w.member("error", it->second.error);
    w.end_object();
    return json_response(http::status::ok, std::move(out));
}

// POST /__sim/generate: starts a generator (see generate()) and answers its job number.
response simulator::start_generator(const request& req) {
    od::parser parser;
    simdjson::padded_string body(req.body());
    od::document doc;
    od::object obj;
    if (parser.iterate(body).get(doc) || doc.get_object().get(obj))
        return control_error(http::status::bad_request, "generate: expected a JSON object");
    generate_request g;
    if (auto error = read_generate_request(obj, g))
        return std::move(*error);
    if (g.kind != "create" && g.kind != "update" && g.kind != "delete" && g.kind != "mixed")
        return control_error(http::status::bad_request,
                             "generate: kind must be create, update, delete or mixed");
    const object_def* od = schema_.find(g.object);
    if (!od)
        return control_error(http::status::bad_request, "generate: unknown object " + g.object);
    if (!g.stamp_field.empty()) {
        // 16 digits of microseconds, in a text field the generator may write.
        const field_def* sf = od->find(g.stamp_field);
        if (!sf || (sf->type != field_type::string && sf->type != field_type::textarea) ||
            !sf->createable || !sf->updateable || (sf->length > 0 && sf->length < 16))
            return control_error(http::status::bad_request,
                                 "generate: stamp_field " + g.stamp_field +
                                     " is not a writable text field of " + g.object +
                                     " with room for 16 digits");
    }
    const std::uint64_t job = ++generator_seq_;
    generators_[job].total = g.count;
    auto run = generate(g.object, g.kind, static_cast<long>(g.count), g.rate, g.bulk,
                        std::move(g.stamp_field), job);
    asio::co_spawn(ex_, std::move(run), asio::detached);
    std::string out;
    json::writer w(out);
    w.begin_object().member("generator", static_cast<std::int64_t>(job)).end_object();
    return json_response(http::status::accepted, std::move(out));
}

void simulator::generate_from(const std::string& settings_json) {
    request req{http::verb::post, "/__sim/generate", 11};
    req.body() = settings_json;
    const auto r = start_generator(req);
    if (r.result() != http::status::accepted)
        throw std::invalid_argument("--generate " + settings_json + ": " + r.body());
}

} // namespace sfbridge::sim
