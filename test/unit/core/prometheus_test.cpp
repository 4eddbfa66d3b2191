#include "core/prometheus.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

using namespace sfbridge;

TEST_CASE("values print as Prometheus reads them", "[unit][prometheus]") {
    CHECK(prometheus::format_value(0) == "0");
    CHECK(prometheus::format_value(42) == "42");
    CHECK(prometheus::format_value(-3) == "-3");
    CHECK(prometheus::format_value(1e15) == "1000000000000000"); // a large counter, no exponent
    CHECK(prometheus::format_value(0.25) == "0.25");
    CHECK(prometheus::format_value(0.0005) == "0.0005");
    CHECK(prometheus::format_value(std::numeric_limits<double>::infinity()) == "+Inf");
    CHECK(prometheus::format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
    CHECK(prometheus::format_value(std::nan("")) == "NaN");
}

TEST_CASE("metric and label names are checked", "[unit][prometheus]") {
    CHECK(prometheus::valid_metric_name("sfbridge_changes_applied_total"));
    CHECK(prometheus::valid_metric_name("a:b"));
    CHECK_FALSE(prometheus::valid_metric_name("9lives"));
    CHECK_FALSE(prometheus::valid_metric_name("with-dash"));
    CHECK_FALSE(prometheus::valid_metric_name(""));
    CHECK(prometheus::valid_label_name("mapping"));
    CHECK_FALSE(prometheus::valid_label_name("a:b"));
    CHECK_FALSE(prometheus::valid_label_name("__reserved"));
    prometheus::writer w;
    CHECK_THROWS_AS(w.family("bad name", "gauge", "x"), std::invalid_argument);
    CHECK_THROWS_AS(w.sample("ok", {{"bad-label", "v"}}, 1.0), std::invalid_argument);
}

TEST_CASE("families, labels and escapes follow the text format 0.0.4", "[unit][prometheus]") {
    prometheus::writer w;
    w.family("sfbridge_changes_applied_total", "counter", "Changes applied.\nBy kind \\ mapping");
    w.sample("sfbridge_changes_applied_total", {{"mapping", "Contact"}, {"kind", "update"}}, 7);
    w.sample("sfbridge_changes_applied_total", {{"mapping", "Quote\"d\\\nx"}}, 1.5);
    w.family("sfbridge_up", "gauge", "One.");
    w.sample("sfbridge_up", {}, 1);
    CHECK(w.text() == "# HELP sfbridge_changes_applied_total Changes applied.\\nBy kind \\\\ "
                      "mapping\n"
                      "# TYPE sfbridge_changes_applied_total counter\n"
                      "sfbridge_changes_applied_total{mapping=\"Contact\",kind=\"update\"} 7\n"
                      "sfbridge_changes_applied_total{mapping=\"Quote\\\"d\\\\\\nx\"} 1.5\n"
                      "# HELP sfbridge_up One.\n"
                      "# TYPE sfbridge_up gauge\n"
                      "sfbridge_up 1\n");
}

TEST_CASE("a histogram exposes cumulative buckets, +Inf, sum and count", "[unit][prometheus]") {
    prometheus::histogram h({0.001, 0.01, 0.1});
    h.observe(0.0005);
    h.observe(0.001); // on a bound: counted in that bucket (le is "less or equal")
    h.observe(0.05);
    h.observe(3); // above every bound: only in +Inf
    CHECK(h.count() == 4);
    CHECK(h.cumulative(0) == 2);
    CHECK(h.cumulative(1) == 2);
    CHECK(h.cumulative(2) == 3);
    prometheus::writer w;
    w.family("lat_seconds", "histogram", "Latency.");
    w.sample("lat_seconds", {{"mapping", "A"}}, h);
    CHECK(w.text() == "# HELP lat_seconds Latency.\n"
                      "# TYPE lat_seconds histogram\n"
                      "lat_seconds_bucket{mapping=\"A\",le=\"0.001\"} 2\n"
                      "lat_seconds_bucket{mapping=\"A\",le=\"0.01\"} 2\n"
                      "lat_seconds_bucket{mapping=\"A\",le=\"0.1\"} 3\n"
                      "lat_seconds_bucket{mapping=\"A\",le=\"+Inf\"} 4\n"
                      "lat_seconds_sum{mapping=\"A\"} 3.0515\n"
                      "lat_seconds_count{mapping=\"A\"} 4\n");
    CHECK_THROWS_AS(prometheus::histogram({0.1, 0.01}), std::invalid_argument);
    CHECK_THROWS_AS(prometheus::histogram({0.1, 0.1}), std::invalid_argument);
    CHECK(prometheus::latency_buckets().front() == 0.0005);
}
