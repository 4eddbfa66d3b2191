#include "salesforce/csv_reader.hpp"

namespace sfbridge::salesforce {

void csv_reader::end_field() {
    row_.push_back(std::move(field_));
    field_ = csv_field{};
}

void csv_reader::end_row() {
    end_field();
    row_done_ = true;
    ++rows_;
    state_ = state::row_start;
}

bool csv_reader::step(char c) {
    switch (state_) {
    case state::after_cr:
        state_ = state::row_start;
        if (c == '\n')
            return true; // CRLF: the row already ended at CR
        [[fallthrough]];
    case state::row_start:
    case state::field_start:
        if (c == '"') {
            field_.quoted = true;
            state_ = state::quoted;
        } else if (c == delim_) {
            end_field();
            state_ = state::field_start;
        } else if (c == '\n') {
            end_row();
        } else if (c == '\r') {
            end_row();
            state_ = state::after_cr;
        } else {
            field_.text += c;
            state_ = state::unquoted;
        }
        return true;
    case state::unquoted:
        if (c == delim_) {
            end_field();
            state_ = state::field_start;
        } else if (c == '\n') {
            end_row();
        } else if (c == '\r') {
            end_row();
            state_ = state::after_cr;
        } else if (c == '"') {
            error_ = "a quote inside an unquoted CSV field (row " + std::to_string(rows_ + 1) + ")";
            return false;
        } else {
            field_.text += c;
        }
        return true;
    case state::quoted:
        if (c == '"')
            state_ = state::quote_in_quoted;
        else
            field_.text += c;
        return true;
    case state::quote_in_quoted:
        if (c == '"') {
            field_.text += '"';
            state_ = state::quoted;
        } else if (c == delim_) {
            end_field();
            state_ = state::field_start;
        } else if (c == '\n') {
            end_row();
        } else if (c == '\r') {
            end_row();
            state_ = state::after_cr;
        } else {
            error_ = "text after a closing quote in CSV row " + std::to_string(rows_ + 1);
            return false;
        }
        return true;
    }
    return false;
}

} // namespace sfbridge::salesforce
