#pragma once

// A restart of `sfbridge run` in place (the same process id, so a container or a supervisor sees
// no exit), to apply a mapping file an import rewrote: the process image is replaced by a new
// one started with the same arguments and environment. The HTTP endpoint's listening socket is
// handed over, so that clients keep connecting while the new image starts; every other
// descriptor closes. Linux only (/proc/self/exe).
namespace sfbridge::bridge {

// Called once by main, before anything else.
void remember_arguments(int argc, char** argv);

// Replaces the process image; `listener` (-1: none) stays open for the new one. Does not return:
// when exec fails the process exits with code 2, logged, and a supervisor starts it again.
[[noreturn]] void restart_process(int listener);

// In the new image: the listening socket handed over (-1: none), and whether this start applies
// an import. Each is read once and removed from the environment.
[[nodiscard]] int take_handed_over_listener();
[[nodiscard]] bool take_applying_import();

} // namespace sfbridge::bridge
