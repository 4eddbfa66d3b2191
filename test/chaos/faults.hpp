#pragma once

#include "test/chaos/plan.hpp"
#include "test/chaos/world.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>
#include <string>
#include <vector>

// Carries out a plan's faults against the world: each at its time, undone after its duration,
// several at once. sfsim's fault settings are one object that PUT replaces, so the ones in
// force are kept here and sent whole at each change.
namespace sfbridge::chaos {

class fault_runner {
public:
    // `schema` and `objects`: where the app's trigger goes.
    fault_runner(world& w, std::string schema, std::vector<object_spec> objects)
        : w_(w), schema_(std::move(schema)), objects_(std::move(objects)) {}

    // Runs every fault of the plan (from `start`), and the supervisor that starts sfbridge
    // again when it exits by itself, until the last fault is undone and `until` has passed.
    boost::asio::awaitable<void> run(const std::vector<fault>& plan,
                                     std::chrono::steady_clock::time_point start,
                                     std::chrono::steady_clock::time_point until);

    // Faults cleared, the gate open, Postgres and sfbridge running.
    boost::asio::awaitable<void> clear_all();

    [[nodiscard]] const std::map<std::string, int>& injected() const noexcept { return injected_; }
    void count(const std::string& kind) { ++injected_[kind]; } // a fault carried out elsewhere
    // Exit codes of SIGTERMs that were not 0, and exits nobody asked for.
    [[nodiscard]] const std::vector<std::string>& problems() const noexcept { return problems_; }

private:
    boost::asio::awaitable<void> one(fault f, std::chrono::steady_clock::time_point start);
    boost::asio::awaitable<void> supervise(std::chrono::steady_clock::time_point until);
    boost::asio::awaitable<void> put_settings();
    // Runs statements on a connection of the campaign's own; false if one failed.
    boost::asio::awaitable<bool> sql(const std::vector<std::string>& statements);
    boost::asio::awaitable<void> app_trigger(const fault& f);
    [[nodiscard]] std::string trigger_off(const object_spec& s) const;

    world& w_;
    std::string schema_;
    std::vector<object_spec> objects_;
    std::map<std::string, std::string> settings_; // sfsim fault member -> JSON value
    std::map<std::string, int> injected_;
    std::vector<std::string> problems_;
    int running_ = 0;          // faults not yet undone
    bool bridge_held_ = false; // a fault has sfbridge down on purpose
};

} // namespace sfbridge::chaos
