#include "bridge/analyze_trigger.hpp"

#include <algorithm>

namespace sfbridge::bridge {

bool analyze_trigger::due() const noexcept {
    return in_flight_ == 0 && added_ > 0 &&
           static_cast<double>(added_) >= std::max(min_rows_, fraction_ * baseline_);
}

void analyze_trigger::started() noexcept {
    in_flight_ = added_;
    added_ = 0;
}

void analyze_trigger::failed() noexcept {
    added_ += in_flight_;
    in_flight_ = 0;
}

} // namespace sfbridge::bridge
