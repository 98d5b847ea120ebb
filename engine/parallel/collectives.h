#pragma once
// Collective communication as simulator tasks (parallel/event_simulator.h): all-reduce over a
// ring (reduce-scatter then all-gather, 2(n-1) steps of 1/n of the data, each device sending
// 2(n-1)/n of the bytes: bandwidth-optimal) or over a binary tree (reduce to the root, then
// broadcast: 2 log2(n) steps of all the data: fewer latencies, more bytes), and all-gather over
// a ring.
#include <vector>

#include "parallel/event_simulator.h"

namespace adj::parallel {

enum class AllReduceAlgorithm { Ring, Tree };
const char* allReduceName(AllReduceAlgorithm a);

/// Adds an all-reduce of `bytes` (the same size on every device) over `devices` (cluster device
/// indices, in ring order). A ring's steps say which chunk of `bucket` each carries: at
/// reduce-scatter step k device i sends chunk (i - k) mod n, which the next device adds to its own;
/// at all-gather step k it sends chunk (i + 1 - k) mod n, which the next device takes. `readyOn[i]` is the task after which devices[i]'s data is ready (-1:
/// at once). Returns, per device, the tasks after which it holds the reduced data (none when
/// there was nothing to do: one device, or no bytes).
std::vector<std::vector<int>> addAllReduce(StepTasks& tasks, const Cluster& cluster, const std::vector<int>& devices, double bytes, AllReduceAlgorithm algorithm,
                              const std::vector<int>& readyOn, const std::string& label, TaskPhase phase = TaskPhase::Collective,
                              int bucket = -1);

/// Adds an all-gather over a ring: each device contributes bytes / n and ends with all `bytes`.
std::vector<std::vector<int>> addAllGather(StepTasks& tasks, const Cluster& cluster, const std::vector<int>& devices, double bytes, const std::vector<int>& readyOn,
                              const std::string& label, TaskPhase phase = TaskPhase::Collective);

/// The bytes each device sends in a ring all-reduce of `bytes` over n devices: 2(n-1)/n x bytes,
/// the analytic figure the simulation must match.
double ringAllReduceBytesPerDevice(double bytes, int n);

}  // namespace adj::parallel
