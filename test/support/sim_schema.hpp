#pragma once

#include "sim/schema.hpp"

namespace sfbridge::test {

// sfsim's shipped objects, loaded once per test process.
inline const sim::schema& sim_objects() {
    static const sim::schema s = [] {
        sim::schema x;
        x.load_directory(SFSIM_SCHEMA_DIR);
        return x;
    }();
    return s;
}

} // namespace sfbridge::test
