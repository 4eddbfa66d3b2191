#include "mappings/filter.hpp"

#include "core/calendar.hpp"
#include "core/text.hpp"

#include <cctype>
#include <cstdlib>

// The parser: a tokenizer and a recursive descent over OR, AND, NOT and the predicates.
namespace sfbridge::mappings {
namespace {

struct token {
    enum class kind { end, name, string, number, date, datetime, punct } k = kind::end;
    std::string text; // a name as written, a string's value, a literal's canonical text
    std::string raw;  // a string as written between its quotes
    std::size_t at = 0;
};

bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

bool digits(std::string_view s, std::size_t from, std::size_t n) {
    if (from + n > s.size())
        return false;
    for (std::size_t i = from; i < from + n; ++i)
        if (std::isdigit(static_cast<unsigned char>(s[i])) == 0)
            return false;
    return true;
}

class tokenizer {
public:
    explicit tokenizer(std::string_view s) : s_(s) {}

    bool next(token& t, std::string& error) {
        while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])) != 0)
            ++pos_;
        t = token{};
        t.at = pos_;
        if (pos_ == s_.size())
            return true;
        const char c = s_[pos_];
        if (c == '\'')
            return string(t, error);
        if (digits(s_, pos_, 4) && pos_ + 4 < s_.size() && s_[pos_ + 4] == '-')
            return date(t, error);
        if (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '+' || c == '.')
            return number(t, error);
        if (is_name_char(c)) {
            const std::size_t from = pos_;
            while (pos_ < s_.size() &&
                   (is_name_char(s_[pos_]) || s_[pos_] == '.' || s_[pos_] == ':'))
                ++pos_;
            t.k = token::kind::name;
            t.text = std::string(s_.substr(from, pos_ - from));
            return true;
        }
        for (std::string_view p : {"!=", "<>", "<=", ">=", "=", "<", ">", "(", ")", ","})
            if (s_.substr(pos_, p.size()) == p) {
                t.k = token::kind::punct;
                t.text = p == "<>" ? "!=" : std::string(p);
                pos_ += p.size();
                return true;
            }
        error = "unexpected character '" + std::string(1, c) + "' at " + std::to_string(pos_);
        return false;
    }

private:
    bool string(token& t, std::string& error) {
        ++pos_;
        while (pos_ < s_.size() && s_[pos_] != '\'') {
            char c = s_[pos_++];
            if (c == '\\') {
                if (pos_ == s_.size())
                    break;
                const char e = s_[pos_++];
                switch (e) {
                case 'n':
                    c = '\n';
                    break;
                case 'r':
                    c = '\r';
                    break;
                case 't':
                    c = '\t';
                    break;
                case 'b':
                    c = '\b';
                    break;
                case 'f':
                    c = '\f';
                    break;
                case '\'':
                case '"':
                case '\\':
                    c = e;
                    break;
                case '%':
                case '_': // LIKE's escapes (the raw text keeps them for LIKE)
                    c = e;
                    break;
                default:
                    error = "unknown escape \\" + std::string(1, e) + " in the string at " +
                            std::to_string(t.at);
                    return false;
                }
            }
            t.text += c;
        }
        if (pos_ == s_.size()) {
            error = "the string at " + std::to_string(t.at) + " has no closing quote";
            return false;
        }
        t.raw = std::string(s_.substr(t.at + 1, pos_ - t.at - 1));
        ++pos_;
        t.k = token::kind::string;
        return true;
    }

    bool date(token& t, std::string& error) {
        std::size_t end = pos_;
        while (end < s_.size() && (is_name_char(s_[end]) || s_[end] == '-' || s_[end] == ':' ||
                                   s_[end] == '.' || s_[end] == '+'))
            ++end;
        const std::string_view text = s_.substr(pos_, end - pos_);
        pos_ = end;
        if (text.size() == 10 && digits(text, 5, 2) && text[7] == '-' && digits(text, 8, 2) &&
            calendar::valid_civil(std::atoi(std::string(text.substr(0, 4)).c_str()),
                                  std::atoi(std::string(text.substr(5, 2)).c_str()),
                                  std::atoi(std::string(text.substr(8, 2)).c_str()))) {
            t.k = token::kind::date;
            t.text = std::string(text);
            return true;
        }
        if (const auto ms = calendar::parse_utc_datetime(text)) {
            t.k = token::kind::datetime;
            t.text = calendar::format_utc(*ms, 'T', true);
            return true;
        }
        error = "'" + std::string(text) + "' at " + std::to_string(t.at) +
                " is neither a date (2024-01-31) nor a datetime in UTC (2024-01-31T10:00:00Z)";
        return false;
    }

    bool number(token& t, std::string& error) {
        std::size_t end = pos_;
        if (s_[end] == '-' || s_[end] == '+')
            ++end;
        const std::size_t first = end;
        bool dot = false;
        while (end < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[end])) != 0 ||
                                   (s_[end] == '.' && !dot))) {
            dot = dot || s_[end] == '.';
            ++end;
        }
        const std::string_view text = s_.substr(pos_, end - pos_);
        if (end == first || (end == first + 1 && dot) ||
            (end < s_.size() && is_name_char(s_[end]))) {
            error = "'" + std::string(text) + "' at " + std::to_string(pos_) + " is not a number";
            return false;
        }
        pos_ = end;
        t.k = token::kind::number;
        t.text = std::string(text.front() == '+' ? text.substr(1) : text);
        return true;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

class parser {
public:
    parser(std::string_view s, std::string& error) : lex_(s), error_(error) {}

    std::optional<filter_node> run() {
        if (!advance())
            return std::nullopt;
        if (cur_.k == token::kind::end)
            return fail("the condition is empty");
        auto n = disjunction();
        if (n && cur_.k != token::kind::end)
            return fail("unexpected '" + cur_.text + "' at " + std::to_string(cur_.at));
        return n;
    }

private:
    bool advance() { return lex_.next(cur_, error_); }
    bool keyword(std::string_view k) const {
        return cur_.k == token::kind::name && text::iequals(cur_.text, k);
    }
    bool punct(std::string_view p) const { return cur_.k == token::kind::punct && cur_.text == p; }
    std::nullopt_t fail(std::string message) {
        if (error_.empty())
            error_ = std::move(message);
        return std::nullopt;
    }

    std::optional<filter_node> joined(filter_node::kind k, std::string_view word,
                                      std::optional<filter_node> (parser::*part)()) {
        auto first = (this->*part)();
        if (!first || !keyword(word))
            return first;
        filter_node n;
        n.k = k;
        n.children.push_back(std::move(*first));
        while (keyword(word)) {
            if (!advance())
                return std::nullopt;
            auto next = (this->*part)();
            if (!next)
                return std::nullopt;
            n.children.push_back(std::move(*next));
        }
        for (const auto& c : n.children)
            if (k == filter_node::kind::or_ && c.k == filter_node::kind::and_ && !c.grouped)
                return fail("AND and OR mixed without parentheses: Salesforce refuses that; "
                            "write (A AND B) OR C, or A AND (B OR C)");
        return n;
    }
    std::optional<filter_node> disjunction() {
        return joined(filter_node::kind::or_, "OR", &parser::conjunction);
    }
    std::optional<filter_node> conjunction() {
        return joined(filter_node::kind::and_, "AND", &parser::negation);
    }

    // Parentheses and NOTs nest at most this deep: the parser recurses, and a file must not
    // be able to run it out of stack.
    static constexpr int max_depth = 64;
    bool deeper() {
        if (++depth_ <= max_depth)
            return true;
        fail("the condition nests more than " + std::to_string(max_depth) +
             " parentheses or NOTs deep");
        return false;
    }

    std::optional<filter_node> negation() {
        if (!keyword("NOT"))
            return primary();
        if (!advance() || !deeper())
            return std::nullopt;
        auto inner = negation();
        --depth_;
        if (!inner)
            return std::nullopt;
        filter_node n;
        n.k = filter_node::kind::not_;
        n.children.push_back(std::move(*inner));
        return n;
    }

    std::optional<filter_node> primary() {
        if (punct("(")) {
            if (!advance() || !deeper())
                return std::nullopt;
            if (keyword("SELECT"))
                return fail("sub-queries are not supported (at " + std::to_string(cur_.at) + ")");
            auto n = disjunction();
            --depth_;
            if (!n)
                return std::nullopt;
            if (!punct(")"))
                return fail("a ')' is missing at " + std::to_string(cur_.at));
            if (!advance())
                return std::nullopt;
            n->grouped = true;
            return n;
        }
        if (cur_.k != token::kind::name)
            return fail("a field name is expected at " + std::to_string(cur_.at) +
                        (cur_.k == token::kind::end ? " (the condition ends there)" : ""));
        return predicate();
    }

    std::optional<filter_node> predicate() {
        filter_node n;
        n.field = cur_.text;
        const std::size_t at = cur_.at;
        if (n.field.find_first_of(".:") != std::string::npos)
            return fail("'" + n.field + "' at " + std::to_string(at) +
                        ": relationship paths are not supported, only the object's own fields");
        if (!advance())
            return std::nullopt;
        if (keyword("NOT")) {
            if (!advance())
                return std::nullopt;
            if (!keyword("IN"))
                return fail("'NOT' after a field must be followed by IN (at " +
                            std::to_string(cur_.at) + ")");
            n.k = filter_node::kind::not_in;
        } else if (keyword("IN")) {
            n.k = filter_node::kind::in;
        } else if (keyword("LIKE")) {
            n.k = filter_node::kind::like;
        } else if (keyword("INCLUDES") || keyword("EXCLUDES")) {
            return fail(cur_.text + " (multi-select picklists) is not supported in a filter");
        } else if (cur_.k == token::kind::punct && cur_.text != "(" && cur_.text != ")" &&
                   cur_.text != ",") {
            n.k = filter_node::kind::compare;
            n.op = cur_.text;
        } else {
            return fail("an operator is expected after " + n.field + " at " +
                        std::to_string(cur_.at));
        }
        if (!advance())
            return std::nullopt;
        if (n.k == filter_node::kind::in || n.k == filter_node::kind::not_in)
            return list(std::move(n));
        auto v = value();
        if (!v)
            return std::nullopt;
        n.values.push_back(std::move(*v));
        return n;
    }

    std::optional<filter_node> list(filter_node n) {
        if (!punct("("))
            return fail("IN needs a list in parentheses at " + std::to_string(cur_.at));
        if (!advance())
            return std::nullopt;
        if (keyword("SELECT"))
            return fail("sub-queries are not supported (at " + std::to_string(cur_.at) + ")");
        while (true) {
            auto v = value();
            if (!v)
                return std::nullopt;
            n.values.push_back(std::move(*v));
            if (punct(")"))
                break;
            if (!punct(","))
                return fail("a ',' or ')' is expected at " + std::to_string(cur_.at));
            if (!advance())
                return std::nullopt;
        }
        if (!advance())
            return std::nullopt;
        return n;
    }

    std::optional<filter_literal> value() {
        filter_literal l;
        l.text = cur_.text;
        l.raw = cur_.raw;
        switch (cur_.k) {
        case token::kind::string:
            l.k = filter_literal::kind::string;
            break;
        case token::kind::number:
            l.k = filter_literal::kind::number;
            break;
        case token::kind::date:
            l.k = filter_literal::kind::date;
            break;
        case token::kind::datetime:
            l.k = filter_literal::kind::datetime;
            break;
        case token::kind::name:
            if (keyword("null")) {
                l.k = filter_literal::kind::null;
                l.text = "null";
            } else if (keyword("true") || keyword("false")) {
                l.k = filter_literal::kind::boolean;
                l.text = keyword("true") ? "true" : "false";
            } else {
                return fail("'" + cur_.text + "' at " + std::to_string(cur_.at) +
                            " is not a value; date literals such as TODAY or LAST_N_DAYS:n are "
                            "not supported (the rows they select change without any record "
                            "changing)");
            }
            break;
        default:
            return fail("a value is expected at " + std::to_string(cur_.at));
        }
        if (!advance())
            return std::nullopt;
        return l;
    }

    tokenizer lex_;
    token cur_;
    std::string& error_;
    int depth_ = 0;
};

} // namespace

std::optional<filter_node> parse_filter(std::string_view text, std::string& error) {
    error.clear();
    parser p(text, error);
    auto n = p.run();
    if (!n && error.empty())
        error = "the condition cannot be read";
    return n;
}

} // namespace sfbridge::mappings
