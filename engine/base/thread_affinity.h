#pragma once
// Threads pinned to cores, for code that stands a thread in for a device of its own (the
// partitioning simulator's measured devices and its real runs): two busy threads that the
// scheduler happens to put on one core would take turns, and the measurement would say so.
#include <vector>

namespace adj {

/// The cores this process may run on, in order.
std::vector<int> allowedCores();
/// Pins the calling thread to `core`; false when the system refuses (the thread stays as it was).
bool pinThisThread(int core);
/// One of `count` threads that each stand in for a device: thread `index` takes the index-th
/// allowed core, when the process has at least `count` of them (else it stays where it is).
bool pinToOwnCore(int index, int count);

}  // namespace adj
