#include "sim/formula.hpp"

#include "sim/record_json.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

namespace sfbridge::sim::formula {

struct node {
    enum class kind { number, text, field, negate, add, sub, mul, div, concat } k = kind::number;
    double number = 0;
    std::string text;
    int field = -1;
    std::shared_ptr<const node> left, right;
};

namespace {

using node_ptr = std::shared_ptr<const node>;

// Recursive descent over the text; depth-limited so a hostile formula cannot exhaust the stack.
class parser {
public:
    parser(std::string_view s, const std::function<int(std::string_view)>& index,
           std::vector<int>& inputs)
        : s_(s), index_(index), inputs_(inputs) {}

    node_ptr parse(std::string& error) {
        node_ptr n = concat();
        skip();
        if (!error_.empty() || pos_ != s_.size()) {
            error = error_.empty() ? "unexpected '" + std::string(1, s_[pos_]) + "' at " +
                                         std::to_string(pos_ + 1)
                                   : error_;
            return nullptr;
        }
        return n;
    }

private:
    void skip() {
        while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
            ++pos_;
    }
    bool take(char c) {
        skip();
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    node_ptr fail(std::string what) {
        if (error_.empty())
            error_ = std::move(what) + " at " + std::to_string(pos_ + 1);
        return nullptr;
    }
    static node_ptr binary(node::kind k, node_ptr l, node_ptr r) {
        auto n = std::make_shared<node>();
        n->k = k;
        n->left = std::move(l);
        n->right = std::move(r);
        return n;
    }
    node_ptr concat() {
        node_ptr l = additive();
        while (l && take('&'))
            l = binary(node::kind::concat, l, additive());
        return l;
    }
    node_ptr additive() {
        node_ptr l = term();
        for (;;) {
            if (!l)
                return l;
            if (take('+'))
                l = binary(node::kind::add, l, term());
            else if (take('-'))
                l = binary(node::kind::sub, l, term());
            else
                return l;
        }
    }
    node_ptr term() {
        node_ptr l = unary();
        for (;;) {
            if (!l)
                return l;
            if (take('*'))
                l = binary(node::kind::mul, l, unary());
            else if (take('/'))
                l = binary(node::kind::div, l, unary());
            else
                return l;
        }
    }
    node_ptr unary() {
        if (++depth_ > 64)
            return fail("formula nested too deeply");
        node_ptr n;
        if (take('-')) {
            auto neg = std::make_shared<node>();
            neg->k = node::kind::negate;
            neg->left = unary();
            n = neg->left ? neg : nullptr;
        } else {
            n = primary();
        }
        --depth_;
        return n;
    }
    node_ptr primary() {
        skip();
        if (pos_ >= s_.size())
            return fail("formula ends early");
        const char c = s_[pos_];
        if (c == '(') {
            ++pos_;
            node_ptr n = concat();
            if (n && !take(')'))
                return fail("')' expected");
            return n;
        }
        if (c == '\'' || c == '"')
            return literal(c);
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.')
            return number();
        if (std::isalpha(static_cast<unsigned char>(c)))
            return field();
        return fail("unexpected '" + std::string(1, c) + "'");
    }
    node_ptr literal(char quote) {
        auto n = std::make_shared<node>();
        n->k = node::kind::text;
        for (++pos_; pos_ < s_.size() && s_[pos_] != quote; ++pos_) {
            if (s_[pos_] == '\\' && pos_ + 1 < s_.size())
                ++pos_;
            n->text += s_[pos_];
        }
        if (pos_ >= s_.size())
            return fail("unterminated text");
        ++pos_;
        return n;
    }
    node_ptr number() {
        const std::size_t start = pos_;
        while (pos_ < s_.size() &&
               (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.'))
            ++pos_;
        const std::string digits(s_.substr(start, pos_ - start));
        char* end = nullptr;
        auto n = std::make_shared<node>();
        n->number = std::strtod(digits.c_str(), &end);
        if (end != digits.c_str() + digits.size())
            return fail("bad number '" + digits + "'");
        return n;
    }
    node_ptr field() {
        const std::size_t start = pos_;
        while (pos_ < s_.size() &&
               (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
            ++pos_;
        const std::string_view name = s_.substr(start, pos_ - start);
        const int i = index_(name);
        if (i < 0)
            return fail("unknown field '" + std::string(name) + "'");
        if (std::find(inputs_.begin(), inputs_.end(), i) == inputs_.end())
            inputs_.push_back(i);
        auto n = std::make_shared<node>();
        n->k = node::kind::field;
        n->field = i;
        return n;
    }

    std::string_view s_;
    const std::function<int(std::string_view)>& index_;
    std::vector<int>& inputs_;
    std::size_t pos_ = 0;
    int depth_ = 0;
    std::string error_;
};

std::optional<double> as_number(const value& v) {
    if (const auto* d = std::get_if<double>(&v))
        return *d;
    if (const auto* s = std::get_if<std::string>(&v)) {
        char* end = nullptr;
        const double d = std::strtod(s->c_str(), &end);
        if (!s->empty() && end == s->c_str() + s->size())
            return d;
    }
    return std::nullopt;
}

// A value as text, as a CSV cell or a REST answer spells it (a formula's TEXT()).
std::string as_text(const value& v) {
    return value_text(field_def{}, v);
}

value eval(const node& n, const std::function<const value&(int)>& get) {
    using k = node::kind;
    switch (n.k) {
    case k::number:
        return n.number;
    case k::text:
        return n.text;
    case k::field:
        return get(n.field);
    case k::negate: {
        const auto x = as_number(eval(*n.left, get));
        return x ? value(-*x) : value();
    }
    case k::concat:
        return as_text(eval(*n.left, get)) + as_text(eval(*n.right, get));
    default:
        break;
    }
    const value l = eval(*n.left, get), r = eval(*n.right, get);
    if (n.k == k::add &&
        (std::holds_alternative<std::string>(l) || std::holds_alternative<std::string>(r)) &&
        (!as_number(l) || !as_number(r)))
        return as_text(l) + as_text(r); // + between texts concatenates
    const auto x = as_number(l), y = as_number(r);
    if (!x || !y)
        return value();
    switch (n.k) {
    case k::add:
        return *x + *y;
    case k::sub:
        return *x - *y;
    case k::mul:
        return *x * *y;
    default:
        return *y == 0 ? value() : value(*x / *y);
    }
}

} // namespace

expression expression::compile(std::string_view text,
                               const std::function<int(std::string_view)>& field_index,
                               std::string& error) {
    expression e;
    parser p(text, field_index, e.inputs_);
    e.root_ = p.parse(error);
    if (!e.root_) {
        e.inputs_.clear();
        return e;
    }
    e.text_ = std::string(text);
    return e;
}

value expression::evaluate(const std::function<const value&(int)>& get) const {
    return root_ ? eval(*root_, get) : value();
}

} // namespace sfbridge::sim::formula
