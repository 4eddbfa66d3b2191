#include "bench/inbound_ceiling.hpp"

#include "bench/bridge_process.hpp"
#include "bridge/analyze_trigger.hpp"
#include "bridge/change_batch.hpp"
#include "bridge/load_batch.hpp"
#include "bridge/state_sql.hpp"
#include "bridge/table_writer.hpp"
#include "core/calendar.hpp"
#include "mappings/ddl.hpp"
#include "mappings/describe.hpp"
#include "mappings/resolve.hpp"

#include <fstream>
#include <random>
#include <sstream>

namespace sfbridge::bench {

namespace asio = boost::asio;
using clk = std::chrono::steady_clock;

const std::vector<std::string>& inbound_fields() {
    static const std::vector<std::string> fields{
        "Id",         "FirstName",     "LastName",  "Email",          "Phone",
        "Title",      "Department",    "Birthdate", "MailingCity",    "MailingCountry",
        "LeadSource", "AssistantName", "IsDeleted", "SystemModstamp", "CreatedDate"};
    return fields;
}

namespace {

mappings::resolved_mapping contact_mapping() {
    std::ifstream in(std::string(SFSIM_SCHEMA_DIR) + "/Contact.json");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string error;
    auto d = mappings::parse_describe(ss.str(), error);
    if (!d)
        throw std::runtime_error("Contact describe: " + error);
    mappings::mapping m;
    m.object_name = "Contact";
    for (const auto& f : inbound_fields())
        m.fields.emplace(f, mappings::json_value::object{});
    std::vector<std::string> errors, warnings;
    auto r = mappings::resolve_mapping(m, &*d, errors, warnings);
    if (!r)
        throw std::runtime_error("ceiling mapping: " + errors.front());
    return *r;
}

// Contacts shaped as sfsim's generator makes them.
class contacts {
public:
    salesforce::flat_record make(const std::string& id, std::int64_t ms) {
        salesforce::flat_record rec;
        auto s = [&](const char* name, std::string v) {
            rec.fields.push_back({name, mappings::sf_value_kind::json_string, std::move(v)});
        };
        const std::string n = std::to_string(rng_() % 1000000);
        s("Id", id);
        s("FirstName", "First" + n);
        s("LastName", "Last" + n);
        s("Email", "c" + n + "@example.com");
        s("Phone", "+1 555 " + n);
        s("Title", "Title " + n);
        s("Department", "Dept " + n);
        s("Birthdate", "1980-01-01");
        s("MailingCity", "City " + n);
        s("MailingCountry", "Country");
        s("LeadSource", "Web");
        s("AssistantName", "Assistant " + n);
        rec.fields.push_back({"IsDeleted", mappings::sf_value_kind::json_bool, "false"});
        s("SystemModstamp", calendar::format_utc(ms, 'T', true));
        s("CreatedDate", calendar::format_utc(ms, 'T', true));
        return rec;
    }
    std::string new_id() {
        char buf[32];
        std::snprintf(buf, sizeof buf, "003C%011ldAAA", ++serial_);
        return buf;
    }
    std::uint64_t random() { return rng_(); }

private:
    std::mt19937_64 rng_{7};
    long serial_ = 0;
};

void check(boost::system::error_code ec, const pg::diagnostics& pd) {
    if (ec)
        throw std::runtime_error(pd.summary().empty() ? ec.message() : pd.summary());
}

// The table as sfbridge's is when it starts streaming: an initial load by COPY and its
// ANALYZE, then the autovacuum and checkpoint the benchmark waits for before measuring.
asio::awaitable<void> load_table(bridge::table_writer& w, const mappings::resolved_mapping& r,
                                 contacts& gen, std::vector<std::string>& live, std::int64_t ms,
                                 std::size_t existing) {
    bridge::load_batch batch(r);
    bridge::row_issue issue;
    pg::diagnostics pd;
    for (std::size_t i = 0; i < existing; ++i) {
        live.push_back(gen.new_id());
        (void)batch.add_record(gen.make(live.back(), ms), issue);
        if (batch.size() == 20000 || i + 1 == existing) {
            check(co_await w.load(batch, 0, pd), pd);
            batch.clear();
        }
    }
    co_await exec(w.connection(), "ANALYZE bench_ceiling.contact");
    co_await exec(w.connection(), "VACUUM bench_ceiling.contact");
    co_await exec(w.connection(), "CHECKPOINT");
}

} // namespace

asio::awaitable<double> ceiling(asio::io_context& io, const std::string& dsn, long changes,
                                std::size_t existing) {
    const auto r = contact_mapping();
    bridge::table_writer w(io.get_executor(), "bench_ceiling");
    pg::diagnostics pd;
    check(co_await w.open(dsn, pd), pd);
    co_await exec(w.connection(), "DROP SCHEMA IF EXISTS bench_ceiling CASCADE");
    co_await exec(w.connection(), mappings::ddl::setup_schema("bench_ceiling"));
    const std::vector<std::string> none;
    co_await exec(w.connection(), mappings::ddl::ensure_table("bench_ceiling", r, none));
    co_await exec(w.connection(), "INSERT INTO bench_ceiling._sfbridge_state (object_name, "
                                  "table_name, schema_version) VALUES ('Contact', 'contact', 1)");
    contacts gen;
    std::vector<std::string> live;
    std::int64_t ms = now_ms() - 86400000;
    co_await load_table(w, r, gen, live, ms, existing);

    bridge::change_batch batch(r);
    bridge::row_issue issue;
    bridge::position_update pos;
    // The tombstones are analyzed as sfbridge's control loop does (bridge/analyze_trigger).
    bridge::analyze_trigger tombstones(200, 0.5);
    const auto start = clk::now();
    for (long i = 0; i < changes; ++i) {
        ++ms;
        const auto pick = gen.random() % 100;
        if (pick < 30 || live.empty()) {
            live.push_back(gen.new_id());
            (void)batch.add_record(gen.make(live.back(), ms), issue);
        } else if (pick < 90) {
            (void)batch.add_record(gen.make(live[gen.random() % live.size()], ms), issue);
        } else {
            const std::size_t k = gen.random() % live.size();
            batch.add_delete(live[k], calendar::format_utc(ms, ' ', false));
            live[k] = live.back();
            live.pop_back();
        }
        if (batch.size() == 5000 || i + 1 == changes) {
            pos.replay_id = i;
            check(co_await w.apply(batch, pos, pd), pd);
            tombstones.added(batch.deletes());
            batch.clear();
            if (tombstones.due()) {
                tombstones.started();
                co_await exec(w.connection(),
                              bridge::state_sql::analyze("bench_ceiling", "_sfbridge_deleted"));
                tombstones.analyzed(std::stod(co_await scalar(
                    w.connection(), "SELECT reltuples FROM pg_class WHERE oid = "
                                    "'bench_ceiling._sfbridge_deleted'::regclass")));
            }
        }
    }
    const double secs = std::chrono::duration<double>(clk::now() - start).count();
    co_await exec(w.connection(), "DROP SCHEMA bench_ceiling CASCADE");
    co_return static_cast<double>(changes) / secs;
}

} // namespace sfbridge::bench
