#include "pg/pipeline_tracker.hpp"

#include <algorithm>

namespace sfbridge::pg {

pipeline_tracker::outcome pipeline_tracker::on(input in) noexcept {
    if (broken_ || queue_.empty())
        return fail();
    item& front = queue_.front();

    if (front.index == sync_marker) {
        if (in != input::sync)
            return fail();
        queue_.pop_front();
        group_failed_ = false;
        return {step::group_complete, 0};
    }

    if (!front.got_result) {
        switch (in) {
        case input::ok:
            // Once a statement of the group failed, the server skips the rest: a success here
            // means libpq and we disagree about where we are.
            if (group_failed_)
                return fail();
            break;
        case input::error:
            if (group_failed_)
                return fail();
            group_failed_ = true;
            break;
        case input::aborted:
            if (!group_failed_)
                return fail();
            break;
        case input::null:
        case input::sync:
            return fail();
        }
        front.got_result = true;
        return {step::result_received, front.index};
    }

    if (in != input::null)
        return fail();
    const std::size_t index = front.index;
    queue_.pop_front();
    return {step::statement_complete, index};
}

std::size_t pipeline_tracker::pending_syncs() const noexcept {
    return static_cast<std::size_t>(std::count_if(
        queue_.begin(), queue_.end(), [](const item& i) { return i.index == sync_marker; }));
}

} // namespace sfbridge::pg
