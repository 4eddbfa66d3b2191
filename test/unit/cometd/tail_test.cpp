#include "cometd/tail.hpp"

#include <catch2/catch.hpp>

TEST_CASE("a tailed event is one JSON line with its channel, replay id and data",
          "[unit][cometd]") {
    sfbridge::cometd::stream_item item;
    item.channel = "/topic/hc_Contact";
    item.replay_id = 42;
    item.data = R"({"event":{"type":"updated"},"sobject":{"Id":"003"}})";
    CHECK(sfbridge::cometd::tail_line(item) ==
          R"({"channel":"/topic/hc_Contact","replayId":42,"data":{"event":{"type":"updated"},)"
          R"("sobject":{"Id":"003"}}})");
}
