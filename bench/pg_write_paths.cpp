// bench/pg_write_paths: three ways to write the same 200,000 rows of a Contact-like table
// (15 columns of mixed types) into PostgreSQL, as the inbound sync engine must:
//   (a) one INSERT ... ON CONFLICT per round trip,
//   (b) pipelined batches of multi-row INSERT ... ON CONFLICT (sfid) DO UPDATE,
//   (c) COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT per batch.
// Each path runs twice: an insert pass into an empty table, then an update pass over the same
// sfids with newer SystemModstamps (the upsert's other branch). It prints rows/s and the ratio
// to (c), which is the ceiling the inbound sync is held to, and checks that the table holds
// exactly the expected rows after every pass.
//
// Usage: pg_write_paths [--dsn DSN] [--rows N] [--batch N] [--statement-rows N]
//        (the DSN defaults to $SFBRIDGE_BENCH_PG_DSN)

#include "pg/connection.hpp"
#include "pg/copy_text.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace pg = sfbridge::pg;
using clk = std::chrono::steady_clock;

namespace {

constexpr const char* columns[] = {
    "sfid",       "firstname",   "lastname",          "email",     "phone",     "title",
    "department", "mailingcity", "mailingpostalcode", "accountid", "birthdate", "score__c",
    "donotcall",  "createddate", "systemmodstamp"};
constexpr int ncols = 15;

const char* table_ddl = R"(
DROP TABLE IF EXISTS bench_contact;
CREATE TABLE bench_contact (
    id serial PRIMARY KEY,
    sfid varchar(18),
    firstname varchar(40),
    lastname varchar(80),
    email varchar(80),
    phone varchar(40),
    title varchar(128),
    department varchar(80),
    mailingcity varchar(40),
    mailingpostalcode varchar(20),
    accountid varchar(18),
    birthdate date,
    score__c double precision,
    donotcall boolean,
    createddate timestamp,
    systemmodstamp timestamp
);
CREATE UNIQUE INDEX hcu_idx_bench_contact_sfid ON bench_contact (sfid);
CREATE INDEX hc_idx_bench_contact_systemmodstamp ON bench_contact (systemmodstamp);
)";

struct options {
    std::string dsn;
    int rows = 200000;
    int batch = 5000;         // rows per transaction, for (b) and (c)
    int statement_rows = 500; // rows per multi-row INSERT in (b)
};

using row = std::vector<std::string>; // 15 text values

std::string sfid_for(int i) {
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string s = "0035g00000";
    char tail[8];
    int v = i;
    for (int k = 7; k >= 0; --k) {
        tail[k] = digits[v % 62];
        v /= 62;
    }
    s.append(tail, 8);
    return s;
}

std::vector<row> make_rows(int n, int pass) {
    std::vector<row> rows;
    rows.reserve(static_cast<std::size_t>(n));
    static const char* cities[] = {"Paris", "Lyon", "Berlin", "San Francisco", "Tokyo", "Lagos"};
    static const char* depts[] = {"Sales", "Support", "R&D", "Finance", "Legal"};
    for (int i = 0; i < n; ++i) {
        row r(ncols);
        r[0] = sfid_for(i);
        r[1] = "First" + std::to_string(i % 1000);
        r[2] = "Last-" + std::to_string(i) + (pass ? "-v2" : "");
        r[3] = "contact" + std::to_string(i) + "@example.com";
        r[4] = "+1 415 555 " + std::to_string(1000 + i % 9000);
        r[5] = i % 7 == 0 ? "VP, \"Special\" Projects\tand more" : "Engineer";
        r[6] = depts[i % 5];
        r[7] = cities[i % 6];
        r[8] = std::to_string(10000 + i % 89999);
        r[9] = "0015g0000" + std::to_string(100000000 + i % 5000);
        r[10] = "19" + std::to_string(50 + i % 50) + "-0" + std::to_string(1 + i % 9) + "-1" +
                std::to_string(i % 10);
        r[11] = std::to_string(i % 1000) + ".25";
        r[12] = i % 3 ? "false" : "true";
        r[13] = "2024-01-01 00:00:00";
        r[14] = std::string(pass ? "2024-06-02 " : "2024-06-01 ") +
                "12:" + std::to_string(10 + i % 50) + ":00.123";
        rows.push_back(std::move(r));
    }
    return rows;
}

std::string column_list() {
    std::string s;
    for (int c = 0; c < ncols; ++c)
        s += (c ? ", " : "") + std::string(columns[c]);
    return s;
}

// The SystemModstamp guard is what the inbound engine will run: a row is only replaced by a
// version at least as new.
std::string upsert_tail() {
    std::string s = " ON CONFLICT (sfid) DO UPDATE SET ";
    for (int c = 1; c < ncols; ++c)
        s += (c > 1 ? ", " : "") + std::string(columns[c]) + " = EXCLUDED." + columns[c];
    s += " WHERE bench_contact.systemmodstamp <= EXCLUDED.systemmodstamp";
    return s;
}

std::string values_sql(int rows_in_statement) {
    std::string s = "INSERT INTO bench_contact (" + column_list() + ") VALUES ";
    int p = 1;
    for (int r = 0; r < rows_in_statement; ++r) {
        s += r ? ",(" : "(";
        for (int c = 0; c < ncols; ++c)
            s += (c ? ",$" : "$") + std::to_string(p++);
        s += ")";
    }
    return s + upsert_tail();
}

[[noreturn]] void die(const char* what, const pg::diagnostics& diag) {
    std::fprintf(stderr, "pg_write_paths: %s: %s\n", what, diag.summary().c_str());
    std::exit(1);
}

asio::awaitable<void> exec(pg::connection& c, const std::string& sql) {
    pg::diagnostics diag;
    if (co_await c.async_exec(sql, diag))
        die(sql.substr(0, 60).c_str(), diag);
}

asio::awaitable<void> path_a(pg::connection& c, const std::vector<row>& rows) {
    const std::string sql = values_sql(1);
    pg::diagnostics diag;
    pg::result res;
    for (const auto& r : rows) {
        pg::params p;
        for (const auto& v : r)
            p.add(v);
        if (co_await c.async_query(sql, p, res, diag))
            die("(a) insert", diag);
    }
}

asio::awaitable<void> path_b(pg::connection& c, const std::vector<row>& rows, const options& o) {
    const std::string full = values_sql(o.statement_rows);
    pg::diagnostics diag;
    pg::pipeline_result out;
    pg::pipeline p;
    for (std::size_t start = 0; start < rows.size(); start += static_cast<std::size_t>(o.batch)) {
        const std::size_t end = std::min(rows.size(), start + static_cast<std::size_t>(o.batch));
        p.clear();
        // One sync group per batch: one implicit transaction, as the engine will commit.
        for (std::size_t s = start; s < end; s += static_cast<std::size_t>(o.statement_rows)) {
            const std::size_t e = std::min(end, s + static_cast<std::size_t>(o.statement_rows));
            pg::params args;
            for (std::size_t i = s; i < e; ++i)
                for (const auto& v : rows[i])
                    args.add(v);
            p.add(e - s == static_cast<std::size_t>(o.statement_rows)
                      ? full
                      : values_sql(static_cast<int>(e - s)),
                  std::move(args));
        }
        if (co_await c.async_execute(p, out, diag))
            die("(b) pipeline", diag);
    }
}

asio::awaitable<void> path_c(pg::connection& c, const std::vector<row>& rows, int batch) {
    const std::string merge = "INSERT INTO bench_contact (" + column_list() + ") SELECT " +
                              column_list() + " FROM bench_stage" + upsert_tail();
    const std::string copy = "COPY bench_stage (" + column_list() + ") FROM STDIN";
    pg::diagnostics diag;
    std::string buf;
    for (std::size_t start = 0; start < rows.size(); start += static_cast<std::size_t>(batch)) {
        const std::size_t end = std::min(rows.size(), start + static_cast<std::size_t>(batch));
        co_await exec(c, "BEGIN");
        if (co_await c.async_copy_start(copy, diag))
            die("(c) copy start", diag);
        buf.clear();
        for (std::size_t i = start; i < end; ++i) {
            for (int col = 0; col < ncols; ++col)
                pg::copy_text::append_field(buf, rows[i][static_cast<std::size_t>(col)], col == 0);
            pg::copy_text::end_row(buf);
            if (buf.size() >= 256 * 1024) {
                if (co_await c.async_copy_write(buf, diag))
                    die("(c) copy write", diag);
                buf.clear();
            }
        }
        if (co_await c.async_copy_write(buf, diag))
            die("(c) copy write", diag);
        std::uint64_t n = 0;
        if (co_await c.async_copy_end(n, diag))
            die("(c) copy end", diag);
        // The stage table is ON COMMIT DELETE ROWS: the commit empties it for the next batch.
        co_await exec(c, merge + "; COMMIT");
    }
}

// Checks that the table holds exactly the rows of the last pass.
asio::awaitable<void> verify(pg::connection& c, const std::vector<row>& rows, const char* what) {
    long long expected_len = 0;
    for (const auto& r : rows)
        expected_len += static_cast<long long>(r[2].size());
    pg::diagnostics diag;
    pg::result res;
    if (co_await c.async_query("SELECT count(*), count(DISTINCT sfid), sum(length(lastname)), "
                               "min(systemmodstamp)::date::text, max(systemmodstamp)::date::text "
                               "FROM bench_contact",
                               res, diag))
        die("verify", diag);
    const std::string count(res.value(0, 0)), distinct(res.value(0, 1)), len(res.value(0, 2));
    const std::string day = rows.front()[14].substr(0, 10);
    if (count != std::to_string(rows.size()) || distinct != count ||
        len != std::to_string(expected_len) || res.value(0, 3) != day || res.value(0, 4) != day) {
        std::fprintf(stderr,
                     "pg_write_paths: %s: table check failed: %s rows (%s distinct), "
                     "lastname length %s (want %lld), modstamps %s..%s (want %s)\n",
                     what, count.c_str(), distinct.c_str(), len.c_str(), expected_len,
                     std::string(res.value(0, 3)).c_str(), std::string(res.value(0, 4)).c_str(),
                     day.c_str());
        std::exit(1);
    }
}

struct figure {
    std::string name;
    double insert_rps = 0, update_rps = 0;
};

template <class F>
asio::awaitable<figure> measure(pg::connection& c, const std::string& name,
                                const std::vector<row>& first, const std::vector<row>& second,
                                F path) {
    figure f{name};
    co_await exec(c, "TRUNCATE bench_contact; CHECKPOINT");
    auto t0 = clk::now();
    co_await path(first);
    auto t1 = clk::now();
    co_await verify(c, first, (name + " insert pass").c_str());
    co_await exec(c, "CHECKPOINT");
    auto t2 = clk::now();
    co_await path(second);
    auto t3 = clk::now();
    co_await verify(c, second, (name + " update pass").c_str());
    f.insert_rps =
        static_cast<double>(first.size()) / std::chrono::duration<double>(t1 - t0).count();
    f.update_rps =
        static_cast<double>(second.size()) / std::chrono::duration<double>(t3 - t2).count();
    std::fprintf(stderr, "  %-40s done\n", name.c_str());
    co_return f;
}

asio::awaitable<int> run(const options& o) {
    pg::connection c(co_await asio::this_coro::executor);
    pg::diagnostics diag;
    if (co_await c.async_connect(o.dsn, diag))
        die("connect", diag);
    c.set_timeout(std::chrono::minutes(10));
    co_await exec(c, table_ddl);
    co_await exec(
        c, "CREATE TEMP TABLE bench_stage (" + [] {
            std::string s;
            const char* types[] = {"varchar(18)", "varchar(40)",  "varchar(80)", "varchar(80)",
                                   "varchar(40)", "varchar(128)", "varchar(80)", "varchar(40)",
                                   "varchar(20)", "varchar(18)",  "date",        "double precision",
                                   "boolean",     "timestamp",    "timestamp"};
            for (int i = 0; i < ncols; ++i)
                s += (i ? ", " : "") + std::string(columns[i]) + " " + types[i];
            return s;
        }() + ") ON COMMIT DELETE ROWS");

    const auto first = make_rows(o.rows, 0);
    const auto second = make_rows(o.rows, 1);
    std::vector<figure> figs;
    figs.push_back(co_await measure(c, "(a) one INSERT per round trip", first, second,
                                    [&](const std::vector<row>& r) { return path_a(c, r); }));
    figs.push_back(co_await measure(c, "(b) pipelined multi-row INSERT", first, second,
                                    [&](const std::vector<row>& r) { return path_b(c, r, o); }));
    figs.push_back(
        co_await measure(c, "(c) COPY + INSERT..SELECT per batch", first, second,
                         [&](const std::vector<row>& r) { return path_c(c, r, o.batch); }));
    figs.push_back(
        co_await measure(c, "(c') COPY + INSERT..SELECT, one batch", first, second,
                         [&](const std::vector<row>& r) { return path_c(c, r, o.rows); }));

    pg::result ver;
    (void)co_await c.async_query("SELECT current_setting('server_version'), "
                                 "current_setting('fsync'), current_setting('synchronous_commit')",
                                 ver, diag);
    std::printf("pg_write_paths: %d rows x 15 columns, batches of %d rows (%d rows per INSERT "
                "in (b)); PostgreSQL %s, fsync=%s, synchronous_commit=%s\n",
                o.rows, o.batch, o.statement_rows, std::string(ver.value(0, 0)).c_str(),
                std::string(ver.value(0, 1)).c_str(), std::string(ver.value(0, 2)).c_str());
    std::printf("%-40s %14s %9s %14s %9s\n", "path", "insert rows/s", "vs (c)", "update rows/s",
                "vs (c)");
    const figure& ceiling = figs[2];
    for (const auto& f : figs)
        std::printf("%-40s %14.0f %8.2fx %14.0f %8.2fx\n", f.name.c_str(), f.insert_rps,
                    f.insert_rps / ceiling.insert_rps, f.update_rps,
                    f.update_rps / ceiling.update_rps);
    std::printf("every pass verified: %d rows, distinct sfids, values of the last pass\n", o.rows);
    co_await exec(c, "DROP TABLE bench_contact");
    co_return 0;
}

} // namespace

int main(int argc, char** argv) {
    options o;
    if (const char* env = std::getenv("SFBRIDGE_BENCH_PG_DSN"))
        o.dsn = env;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "pg_write_paths: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--dsn")
            o.dsn = next();
        else if (a == "--rows")
            o.rows = std::atoi(next().c_str());
        else if (a == "--batch")
            o.batch = std::atoi(next().c_str());
        else if (a == "--statement-rows")
            o.statement_rows = std::atoi(next().c_str());
        else {
            std::fprintf(stderr, "usage: pg_write_paths [--dsn DSN] [--rows N] [--batch N] "
                                 "[--statement-rows N]\n");
            return 2;
        }
    }
    if (o.dsn.empty()) {
        std::fprintf(stderr, "pg_write_paths: no database: pass --dsn or set "
                             "SFBRIDGE_BENCH_PG_DSN (./scripts/bench does)\n");
        return 2;
    }
    if (o.rows <= 0 || o.batch <= 0 || o.statement_rows <= 0 || o.statement_rows * ncols > 65535) {
        std::fprintf(stderr,
                     "pg_write_paths: --rows, --batch and --statement-rows must be "
                     "positive, and --statement-rows at most %d\n",
                     65535 / ncols);
        return 2;
    }
    asio::io_context io(1);
    int rc = 1;
    asio::co_spawn(io, run(o), [&](std::exception_ptr e, int r) {
        if (e)
            std::rethrow_exception(e);
        rc = r;
    });
    io.run();
    return rc;
}
