#pragma once
// Execution orders for the memory planner. The order of a schedule decides which values are live
// together, so two topological orders of one graph can need very different memory (the lecture's
// runtime-scheduling idea): computing two large intermediates before reducing either holds both,
// reducing the first before computing the second holds one.
//
// - Topological: Graph::liveTopoOrder (Kahn's algorithm, ties in creation order).
// - MinPeak: a greedy list schedule: among the nodes whose inputs are computed, the one that adds
//   the fewest bytes to what is live (the bytes of its outputs less those of the buffers it is the
//   last reader of), ties to the topological order. A greedy order is not always better, so the
//   planner keeps it only when its planned peak is lower than the topological order's
//   (planMemory with ScheduleOrder::MinPeak): asking for it never costs memory.
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "ir/graph.h"

namespace adj {

enum class ScheduleOrder { Topological, MinPeak };

/// "topo" or "min-peak", as the CLI spells them.
std::string_view scheduleOrderName(ScheduleOrder order);
std::optional<ScheduleOrder> scheduleOrderFromName(std::string_view name);

/// The greedy order described above over `topo` (a topological order of the nodes the outputs
/// need, as liveTopoOrder gives), sources first. `bytesOf` gives the bytes of every value of every
/// non-source node; views (returnsView) hold no buffer of their own and keep their root's alive.
std::vector<NodeId> lowPeakOrder(const Graph& g, const std::vector<NodeId>& topo, const std::function<std::int64_t(ValueRef)>& bytesOf);

}  // namespace adj
