#include "sim/soql.hpp"

#include "sim/ids.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

namespace sfbridge::sim::soql {
namespace {

enum class tok { ident, string, number, datelit, punct, end };

struct token {
    tok kind;
    std::string text; // identifiers as written; strings unescaped
    std::size_t pos;  // byte offset in the query
};

bool ident_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

class parser {
public:
    parser(std::string_view text, const schema& s, bool for_push_topic)
        : text_(text), schema_(s), push_topic_(for_push_topic) {}

    bool run(query& q, error& err) {
        if (!lex(err))
            return false;
        try {
            parse_query(q);
        } catch (const error& e) {
            err = e;
            return false;
        }
        return true;
    }

private:
    // -- lexing --------------------------------------------------------------------------
    bool lex(error& err) {
        std::size_t i = 0;
        while (i < text_.size()) {
            const char c = text_[i];
            if (std::isspace(static_cast<unsigned char>(c))) {
                ++i;
                continue;
            }
            const std::size_t start = i;
            if (c == '\'') {
                std::string s;
                ++i;
                bool closed = false;
                while (i < text_.size()) {
                    char ch = text_[i];
                    if (ch == '\\' && i + 1 < text_.size()) {
                        const char e = text_[i + 1];
                        switch (e) {
                        case 'n':
                            s.push_back('\n');
                            break;
                        case 't':
                            s.push_back('\t');
                            break;
                        case 'r':
                            s.push_back('\r');
                            break;
                        case 'b':
                            s.push_back('\b');
                            break;
                        case 'f':
                            s.push_back('\f');
                            break;
                        case '%':
                        case '_':
                            // Kept escaped: they only mean something to LIKE.
                            s.push_back('\\');
                            s.push_back(e);
                            break;
                        case '\'':
                        case '"':
                        case '\\':
                            s.push_back(e);
                            break;
                        default:
                            err = located("MALFORMED_QUERY", i, "Invalid string literal");
                            return false;
                        }
                        i += 2;
                        continue;
                    }
                    if (ch == '\'') {
                        closed = true;
                        ++i;
                        break;
                    }
                    s.push_back(ch);
                    ++i;
                }
                if (!closed) {
                    err = located("MALFORMED_QUERY", start, "unterminated string literal");
                    return false;
                }
                tokens_.push_back({tok::string, std::move(s), start});
                continue;
            }
            if (std::isdigit(static_cast<unsigned char>(c)) ||
                ((c == '-' || c == '+') && i + 1 < text_.size() &&
                 std::isdigit(static_cast<unsigned char>(text_[i + 1])))) {
                // A date or datetime literal starts with four digits and a dash.
                if (i + 4 < text_.size() && text_[i + 4] == '-' &&
                    std::all_of(text_.begin() + static_cast<long>(i),
                                text_.begin() + static_cast<long>(i + 4), [](char d) {
                                    return std::isdigit(static_cast<unsigned char>(d));
                                })) {
                    while (i < text_.size() &&
                           (std::isdigit(static_cast<unsigned char>(text_[i])) ||
                            std::strchr("-:T.Z+", text_[i])))
                        ++i;
                    tokens_.push_back(
                        {tok::datelit, std::string(text_.substr(start, i - start)), start});
                    continue;
                }
                ++i;
                while (i < text_.size() &&
                       (std::isdigit(static_cast<unsigned char>(text_[i])) || text_[i] == '.'))
                    ++i;
                tokens_.push_back(
                    {tok::number, std::string(text_.substr(start, i - start)), start});
                continue;
            }
            if (ident_start(c)) {
                while (i < text_.size() && ident_char(text_[i]))
                    ++i;
                tokens_.push_back({tok::ident, std::string(text_.substr(start, i - start)), start});
                continue;
            }
            static constexpr std::string_view two[] = {"!=", "<>", "<=", ">="};
            bool matched = false;
            for (auto op : two)
                if (text_.substr(i, 2) == op) {
                    tokens_.push_back({tok::punct, std::string(op), start});
                    i += 2;
                    matched = true;
                    break;
                }
            if (matched)
                continue;
            if (std::strchr("(),=<>:", c)) {
                tokens_.push_back({tok::punct, std::string(1, c), start});
                ++i;
                continue;
            }
            err =
                located("MALFORMED_QUERY", start, "unexpected token: '" + std::string(1, c) + "'");
            return false;
        }
        tokens_.push_back({tok::end, "<EOF>", text_.size()});
        return true;
    }

    // -- errors ---------------------------------------------------------------------------
    // Salesforce's layout: the query line, a caret under the column, the position, the text.
    error located(std::string code, std::size_t pos, const std::string& msg) const {
        std::size_t line_start = 0;
        int row = 1;
        for (std::size_t i = 0; i < pos && i < text_.size(); ++i)
            if (text_[i] == '\n') {
                ++row;
                line_start = i + 1;
            }
        std::size_t line_end = text_.find('\n', line_start);
        if (line_end == std::string_view::npos)
            line_end = text_.size();
        const std::size_t col = pos - line_start + 1;
        std::string m;
        m.reserve(line_end - line_start + col + msg.size() + 48);
        m.append("\n").append(text_.substr(line_start, line_end - line_start)).append("\n");
        m.append(col - 1, ' ').append("^\nERROR at Row:").append(std::to_string(row));
        m.append(":Column:").append(std::to_string(col)).append("\n").append(msg);
        return {std::move(code), std::move(m)};
    }
    [[noreturn]] void fail(const token& t, const std::string& msg) const {
        throw located("MALFORMED_QUERY", t.pos, msg);
    }
    [[noreturn]] void unexpected(const token& t) const {
        fail(t, "unexpected token: '" + t.text + "'");
    }

    // -- token helpers ------------------------------------------------------------------
    const token& peek(std::size_t ahead = 0) const {
        return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
    }
    const token& next() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }
    bool is_kw(const token& t, std::string_view kw) const {
        return t.kind == tok::ident && iequals(t.text, kw);
    }
    bool accept_kw(std::string_view kw) {
        if (is_kw(peek(), kw)) {
            ++pos_;
            return true;
        }
        return false;
    }
    void expect_kw(std::string_view kw) {
        if (!accept_kw(kw))
            unexpected(peek());
    }
    bool accept_punct(std::string_view p) {
        if (peek().kind == tok::punct && peek().text == p) {
            ++pos_;
            return true;
        }
        return false;
    }
    void expect_punct(std::string_view p) {
        if (!accept_punct(p))
            unexpected(peek());
    }
    static bool reserved(const std::string& w) {
        static constexpr std::string_view words[] = {
            "select",   "from",  "where",  "and",   "or",     "not",  "in",   "like",  "order",
            "by",       "limit", "offset", "group", "having", "asc",  "desc", "nulls", "includes",
            "excludes", "null",  "true",   "false", "typeof", "with", "for",  "using"};
        for (auto r : words)
            if (iequals(w, r))
                return true;
        return false;
    }

    // -- grammar -----------------------------------------------------------------------
    struct pending_field {
        token t;
    };

    void parse_query(query& q) {
        expect_kw("SELECT");
        std::vector<token> select;
        bool count_only = false;
        for (;;) {
            const token& t = peek();
            if (is_kw(t, "TYPEOF")) {
                q.has_typeof = true;
                if (!push_topic_)
                    fail(t, "sfsim does not support TYPEOF");
                // Skip to the matching END.
                while (peek().kind != tok::end && !is_kw(peek(), "END"))
                    ++pos_;
                accept_kw("END");
            } else if (t.kind == tok::punct && t.text == "(") {
                fail(t, "sfsim does not support child relationship sub-queries");
            } else if (t.kind == tok::ident && peek(1).kind == tok::punct && peek(1).text == "(") {
                const token fn = next();
                next(); // (
                if (iequals(fn.text, "COUNT") && accept_punct(")")) {
                    count_only = true;
                } else if (iequals(fn.text, "COUNT") || iequals(fn.text, "AVG") ||
                           iequals(fn.text, "SUM") || iequals(fn.text, "MIN") ||
                           iequals(fn.text, "MAX") || iequals(fn.text, "COUNT_DISTINCT")) {
                    q.has_aggregate = true;
                    if (!push_topic_)
                        fail(fn, "sfsim supports COUNT() but no other aggregate function");
                    while (peek().kind != tok::end && !accept_punct(")"))
                        ++pos_;
                } else {
                    fail(fn, "unexpected token: '" + fn.text + "'");
                }
            } else if (t.kind == tok::ident && !reserved(t.text)) {
                select.push_back(next());
            } else {
                unexpected(t);
            }
            if (!accept_punct(","))
                break;
        }
        if (count_only && !select.empty())
            fail(peek(), "COUNT() may not be combined with other fields");
        q.count_only = count_only;
        expect_kw("FROM");
        const token obj = next();
        if (obj.kind != tok::ident || reserved(obj.text))
            unexpected(obj);
        q.object = schema_.find(obj.text);
        if (!q.object)
            throw located("INVALID_TYPE", obj.pos,
                          "sObject type '" + obj.text +
                              "' is not supported. If you are attempting to use a custom "
                              "object, be sure to append the '__c' after the entity name. "
                              "Please reference your WSDL or the describe call for the "
                              "appropriate names.");
        for (const token& f : select) {
            const int idx = resolve(q, f);
            if (idx >= 0 && std::find(q.fields.begin(), q.fields.end(), idx) == q.fields.end())
                q.fields.push_back(idx);
        }
        if (accept_kw("WHERE"))
            q.where = parse_or(q);
        if (is_kw(peek(), "GROUP")) {
            q.has_group_by = true;
            if (!push_topic_)
                fail(peek(), "sfsim does not support GROUP BY");
            while (peek().kind != tok::end && !is_kw(peek(), "ORDER") && !is_kw(peek(), "LIMIT"))
                ++pos_;
        }
        if (accept_kw("ORDER")) {
            expect_kw("BY");
            do {
                const token f = next();
                if (f.kind != tok::ident)
                    unexpected(f);
                order_item o;
                o.field = resolve(q, f);
                if (accept_kw("DESC"))
                    o.descending = true;
                else
                    accept_kw("ASC");
                o.nulls_last = o.descending;
                if (accept_kw("NULLS")) {
                    if (accept_kw("LAST"))
                        o.nulls_last = true;
                    else {
                        expect_kw("FIRST");
                        o.nulls_last = false;
                    }
                }
                q.order_by.push_back(o);
            } while (accept_punct(","));
        }
        if (accept_kw("LIMIT"))
            q.limit = integer_literal();
        if (accept_kw("OFFSET")) {
            q.offset = integer_literal();
            if (*q.offset > 2000)
                throw located("NUMBER_OUTSIDE_VALID_RANGE", tokens_[pos_ - 1].pos,
                              "Maximum SOQL offset allowed is 2000");
        }
        if (peek().kind != tok::end)
            unexpected(peek());
    }

    long integer_literal() {
        const token t = next();
        long v = 0;
        if (t.kind != tok::number ||
            std::from_chars(t.text.data(), t.text.data() + t.text.size(), v).ec != std::errc{} ||
            v < 0)
            unexpected(t);
        return v;
    }

    int resolve(query& q, const token& f) {
        if (f.text.find('.') != std::string::npos) {
            q.has_relationship = true;
            // A prefix naming the object itself (Contact.LastName) is allowed.
            const std::string prefix = f.text.substr(0, f.text.find('.'));
            if (iequals(prefix, q.object->name) &&
                f.text.find('.', prefix.size() + 1) == std::string::npos) {
                q.has_relationship = false;
                token plain = f;
                plain.text = f.text.substr(prefix.size() + 1);
                plain.pos += prefix.size() + 1;
                return resolve(q, plain);
            }
            if (push_topic_)
                return -1;
            fail(f, "sfsim does not support relationship fields: " + f.text);
        }
        const int idx = q.object->index_of(f.text);
        if (idx < 0)
            throw located("INVALID_FIELD", f.pos,
                          "No such column '" + f.text + "' on entity '" + q.object->name +
                              "'. If you are attempting to use a custom field, be sure to append "
                              "the '__c' after the custom field name. Please reference your WSDL "
                              "or the describe call for the appropriate names.");
        return idx;
    }

    std::unique_ptr<condition> parse_or(query& q) {
        auto left = parse_and(q);
        while (accept_kw("OR")) {
            auto c = std::make_unique<condition>();
            c->k = condition::kind::or_;
            c->children.push_back(std::move(left));
            c->children.push_back(parse_and(q));
            left = std::move(c);
        }
        return left;
    }

    std::unique_ptr<condition> parse_and(query& q) {
        auto left = parse_not(q);
        while (accept_kw("AND")) {
            auto c = std::make_unique<condition>();
            c->k = condition::kind::and_;
            c->children.push_back(std::move(left));
            c->children.push_back(parse_not(q));
            left = std::move(c);
        }
        return left;
    }

    std::unique_ptr<condition> parse_not(query& q) {
        if (accept_kw("NOT")) {
            q.has_not = true;
            auto c = std::make_unique<condition>();
            c->k = condition::kind::not_;
            c->children.push_back(parse_not(q));
            return c;
        }
        if (accept_punct("(")) {
            auto inner = parse_or(q);
            expect_punct(")");
            return inner;
        }
        return parse_predicate(q);
    }

    std::unique_ptr<condition> parse_predicate(query& q) {
        const token f = next();
        if (f.kind != tok::ident || reserved(f.text))
            unexpected(f);
        auto c = std::make_unique<condition>();
        c->field = resolve(q, f);
        if (c->field >= 0)
            q.where_fields.push_back(c->field);
        const token op = next();
        if (op.kind == tok::punct &&
            (op.text == "=" || op.text == "!=" || op.text == "<>" || op.text == "<" ||
             op.text == "<=" || op.text == ">" || op.text == ">=")) {
            c->k = condition::kind::compare;
            c->op = op.text == "<>" ? "!=" : op.text;
            c->values.push_back(parse_literal(q, c->field, f));
            return c;
        }
        if (is_kw(op, "LIKE")) {
            c->k = condition::kind::like;
            const token v = next();
            if (v.kind != tok::string)
                unexpected(v);
            c->values.push_back({literal::kind::string, false, 0, v.text});
            return c;
        }
        if (is_kw(op, "NOT") && accept_kw("IN")) {
            c->k = condition::kind::not_in;
        } else if (is_kw(op, "IN")) {
            c->k = condition::kind::in;
        } else if (is_kw(op, "INCLUDES")) {
            c->k = condition::kind::includes;
        } else if (is_kw(op, "EXCLUDES")) {
            c->k = condition::kind::excludes;
        } else {
            unexpected(op);
        }
        expect_punct("(");
        if (is_kw(peek(), "SELECT")) {
            q.has_semi_join = true;
            if (!push_topic_)
                fail(peek(), "sfsim does not support semi-join sub-selects");
            int depth = 1;
            while (peek().kind != tok::end && depth > 0) {
                const token t = next();
                if (t.kind == tok::punct && t.text == "(")
                    ++depth;
                if (t.kind == tok::punct && t.text == ")")
                    --depth;
            }
            return c;
        }
        do
            c->values.push_back(parse_literal(q, c->field, f));
        while (accept_punct(","));
        expect_punct(")");
        return c;
    }

    literal parse_literal(query& q, int field, const token& field_tok) {
        const token v = next();
        literal l;
        if (is_kw(v, "NULL")) {
            l.k = literal::kind::null;
            return l;
        }
        if (is_kw(v, "TRUE") || is_kw(v, "FALSE")) {
            l.k = literal::kind::boolean;
            l.b = is_kw(v, "TRUE");
        } else if (v.kind == tok::string) {
            l.k = literal::kind::string;
            l.s = v.text;
        } else if (v.kind == tok::number) {
            l.k = literal::kind::number;
            if (std::from_chars(v.text.data(), v.text.data() + v.text.size(), l.d).ec !=
                std::errc{})
                unexpected(v);
        } else if (v.kind == tok::datelit) {
            if (valid_date(v.text)) {
                l.k = literal::kind::date;
                l.s = v.text;
            } else {
                l.s = canonical_datetime(v.text);
                if (l.s.empty() || v.text.size() <= 10)
                    fail(v, "line 1:" + std::to_string(v.pos) +
                                " no viable alternative at "
                                "character '" +
                                v.text + "'");
                l.k = literal::kind::datetime;
            }
        } else {
            unexpected(v);
        }
        if (field < 0)
            return l; // an unresolved relationship field (PushTopic rejects the query anyway)
        // The literal must fit the field's type, as Salesforce checks.
        const field_def& f = q.object->fields[static_cast<std::size_t>(field)];
        auto wrong = [&](const char* type, bool quoted) {
            throw located("INVALID_FIELD", v.pos,
                          "value of filter criterion for field '" + field_tok.text +
                              "' must be of type " + type + " and should " +
                              (quoted ? "" : "not ") + "be enclosed in quotes");
        };
        switch (f.type) {
        case field_type::boolean:
            if (l.k != literal::kind::boolean)
                wrong("boolean", false);
            break;
        case field_type::integer:
        case field_type::double_:
        case field_type::currency:
        case field_type::percent:
            if (l.k != literal::kind::number)
                wrong("double", false);
            break;
        case field_type::date:
            if (l.k != literal::kind::date)
                wrong("date", false);
            break;
        case field_type::datetime:
            if (l.k != literal::kind::datetime)
                wrong("dateTime", false);
            break;
        default:
            if (l.k != literal::kind::string)
                wrong("string", true);
        }
        return l;
    }

    std::string_view text_;
    const schema& schema_;
    bool push_topic_;
    std::vector<token> tokens_;
    std::size_t pos_ = 0;
};

// -- evaluation ---------------------------------------------------------------------------

int compare_text(std::string_view a, std::string_view b) {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const int x = std::tolower(static_cast<unsigned char>(a[i]));
        const int y = std::tolower(static_cast<unsigned char>(b[i]));
        if (x != y)
            return x < y ? -1 : 1;
    }
    return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

// Compares a non-null stored value with a non-null literal; nullopt when incomparable.
std::optional<int> compare(const field_def& f, const value& v, const literal& l) {
    if (const auto* b = std::get_if<bool>(&v)) {
        if (l.k != literal::kind::boolean)
            return std::nullopt;
        return *b == l.b ? 0 : (*b ? 1 : -1);
    }
    if (const auto* d = std::get_if<double>(&v)) {
        if (l.k != literal::kind::number)
            return std::nullopt;
        return *d == l.d ? 0 : (*d < l.d ? -1 : 1);
    }
    const auto& s = std::get<std::string>(v);
    if (f.type == field_type::id || f.type == field_type::reference) {
        if (l.s.size() >= 15 && s.size() >= 15)
            return s.compare(0, 15, l.s, 0, 15) == 0
                       ? 0
                       : (s.substr(0, 15) < l.s.substr(0, 15) ? -1 : 1);
        return compare_text(s, l.s);
    }
    if (f.type == field_type::date || f.type == field_type::datetime || f.type == field_type::time)
        return s == l.s ? 0 : (s < l.s ? -1 : 1);
    return compare_text(s, l.s);
}

bool like(std::string_view s, std::string_view p) {
    // Case-insensitive; % any run, _ one character; \% and \_ literal.
    std::size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
    while (si < s.size()) {
        if (pi < p.size()) {
            char pc = p[pi];
            bool literal_next = false;
            if (pc == '\\' && pi + 1 < p.size()) {
                pc = p[pi + 1];
                literal_next = true;
            }
            if (!literal_next && pc == '%') {
                star_p = ++pi;
                star_s = si;
                continue;
            }
            if ((!literal_next && pc == '_') ||
                std::tolower(static_cast<unsigned char>(pc)) ==
                    std::tolower(static_cast<unsigned char>(s[si]))) {
                pi += literal_next ? 2 : 1;
                ++si;
                continue;
            }
        }
        if (star_p == std::string_view::npos)
            return false;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < p.size() && p[pi] == '%')
        ++pi;
    return pi == p.size();
}

std::vector<std::string> split_multi(std::string_view s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        const std::size_t end = s.find(';', start);
        const auto part = s.substr(start, end == std::string_view::npos ? s.npos : end - start);
        if (!part.empty())
            out.push_back(to_lower(part));
        if (end == std::string_view::npos)
            break;
        start = end + 1;
    }
    return out;
}

} // namespace

bool parse(std::string_view text, const schema& s, query& out, error& err, bool for_push_topic) {
    out = query{};
    parser p(text, s, for_push_topic);
    return p.run(out, err);
}

bool matches(const condition& c, const object_def& o, const record& r) {
    switch (c.k) {
    case condition::kind::and_:
        return matches(*c.children[0], o, r) && matches(*c.children[1], o, r);
    case condition::kind::or_:
        return matches(*c.children[0], o, r) || matches(*c.children[1], o, r);
    case condition::kind::not_:
        return !matches(*c.children[0], o, r);
    default:
        break;
    }
    if (c.field < 0)
        return false;
    const field_def& f = o.fields[static_cast<std::size_t>(c.field)];
    const value& v = r.get(c.field);
    const bool null = is_null(v);
    switch (c.k) {
    case condition::kind::compare: {
        const literal& l = c.values[0];
        if (l.k == literal::kind::null)
            return c.op == "=" ? null : (c.op == "!=" ? !null : false);
        if (null)
            return c.op == "!=";
        const auto cmp = compare(f, v, l);
        if (!cmp)
            return false;
        if (c.op == "=")
            return *cmp == 0;
        if (c.op == "!=")
            return *cmp != 0;
        if (c.op == "<")
            return *cmp < 0;
        if (c.op == "<=")
            return *cmp <= 0;
        if (c.op == ">")
            return *cmp > 0;
        return *cmp >= 0;
    }
    case condition::kind::like:
        return !null && std::holds_alternative<std::string>(v) &&
               like(std::get<std::string>(v), c.values[0].s);
    case condition::kind::in:
    case condition::kind::not_in: {
        bool found = false;
        for (const auto& l : c.values) {
            if (l.k == literal::kind::null ? null : (!null && compare(f, v, l) == 0)) {
                found = true;
                break;
            }
        }
        return c.k == condition::kind::in ? found : !found;
    }
    case condition::kind::includes:
    case condition::kind::excludes: {
        const auto have = null ? std::vector<std::string>{}
                               : split_multi(std::holds_alternative<std::string>(v)
                                                 ? std::string_view(std::get<std::string>(v))
                                                 : std::string_view());
        bool any = false;
        for (const auto& l : c.values) {
            const auto want = split_multi(l.s);
            const bool all = !want.empty() && std::all_of(want.begin(), want.end(), [&](auto& w) {
                return std::find(have.begin(), have.end(), w) != have.end();
            });
            any = any || all;
        }
        return c.k == condition::kind::includes ? any : !any;
    }
    default:
        return false;
    }
}

bool matches(const query& q, const record& r) {
    return !q.where || matches(*q.where, *q.object, r);
}

void sort(const query& q, std::vector<const record*>& rows) {
    if (q.order_by.empty())
        return;
    std::stable_sort(rows.begin(), rows.end(), [&](const record* a, const record* b) {
        for (const auto& o : q.order_by) {
            const value& x = a->get(o.field);
            const value& y = b->get(o.field);
            if (is_null(x) || is_null(y)) {
                if (is_null(x) && is_null(y))
                    continue;
                // A null sorts first unless NULLS LAST.
                return is_null(x) != o.nulls_last;
            }
            int c = 0;
            if (const auto* s = std::get_if<std::string>(&x))
                c = compare_text(*s, std::get<std::string>(y));
            else if (const auto* d = std::get_if<double>(&x))
                c = *d == std::get<double>(y) ? 0 : (*d < std::get<double>(y) ? -1 : 1);
            else
                c = std::get<bool>(x) == std::get<bool>(y) ? 0 : (std::get<bool>(x) ? 1 : -1);
            if (c != 0)
                return o.descending ? c > 0 : c < 0;
        }
        return false;
    });
}

} // namespace sfbridge::sim::soql
