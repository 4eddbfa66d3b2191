#pragma once

#include "sim/values.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// sfsim's formula fields: the part of Salesforce's formula language a test needs to see a
// calculated value change without the record's SystemModstamp changing (a formula edited by an
// admin): number and text literals, fields of the same record, + - * / with the usual
// precedence, unary minus, parentheses, & (and + between texts) for concatenation. As in
// Salesforce with "treat blank fields as blanks": arithmetic on a blank is blank, a blank
// concatenates as empty text, division by zero is blank (Salesforce's #Error!, which the API
// returns as null).
namespace sfbridge::sim::formula {

struct node;

class expression {
public:
    // Compiles `text`, resolving field names with `field_index` (-1: unknown). On error returns
    // an empty expression and sets `error` (naming what was wrong and where).
    static expression compile(std::string_view text,
                              const std::function<int(std::string_view)>& field_index,
                              std::string& error);

    [[nodiscard]] bool valid() const noexcept { return root_ != nullptr; }
    [[nodiscard]] const std::string& text() const noexcept { return text_; }
    // The fields it reads (indexes), each once.
    [[nodiscard]] const std::vector<int>& inputs() const noexcept { return inputs_; }
    // The value for a record whose fields `get` returns.
    [[nodiscard]] value evaluate(const std::function<const value&(int)>& get) const;

private:
    std::shared_ptr<const node> root_;
    std::string text_;
    std::vector<int> inputs_;
};

} // namespace sfbridge::sim::formula
