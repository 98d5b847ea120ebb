#pragma once
// The memory planner: from a schedule (a topological order) and the byte size of every value,
// each computed value's lifetime and a place for its buffer in one arena that values whose
// lifetimes do not overlap share.
//
// - Lifetime: [the step that defines the value, the last step that reads it]; graph outputs live
//   to the end. A value that the CPU kernel returns as a view of its input (returnsView) has no
//   buffer of its own: it extends the lifetime of the buffer it aliases (the root of its chain).
// - In place: an elementwise or fused node whose input (a buffer of its own, not a view, of the
//   output's shape and type) dies at this node writes its output over that input's buffer, as
//   PyTorch's in-place ops and ONNX Runtime's planner do: the buffer then lives on to the
//   output's last use. Never over a source, a graph output, a buffer still read later (through
//   any value or view that holds it), or one that another input of the node also reads.
// - Donated inputs (RunOptions::donatedInputs: a training step's parameters and optimizer state,
//   as JAX's donate_argnums): the caller's buffer of a graph input (or of a parameter the caller
//   binds) may take the output of the
//   elementwise node that reads it last (through any view), of its shape and type, when no graph
//   output reads the input as it is; the output then holds no buffer of its own (InPlace over the
//   source), so an optimizer's updated parameters cost no memory beyond the parameters.
// - Placement: graph outputs, and every buffer that a graph output views, are never placed in
//   the arena ("own" buffers, allocated fresh on every run) because a caller keeps outputs across
//   runs while the arena is rewritten by the next one. Sources (inputs, parameters, constants)
//   belong to the caller and are not planned. Everything else goes into the arena.
// - Offsets: greedy by size with best-fit offsets (TFLite's and PyTorch's static planners):
//   buffers in decreasing size, each into the smallest gap between the buffers already placed
//   whose lifetimes overlap its own, or above them all. Sizes and offsets are multiples of
//   kPlanAlignment.
// - Figures: the arena's size, the own buffers' sum, the sum of every value's bytes as if each had
//   a buffer of its own (no reuse, no writing in place) and the lower bound (the most bytes of
//   buffers live at any one step, with the in-place sharing); lowerBound <= arena + own <= noReuse.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/executor.h"
#include "runtime/memory_schedule.h"

namespace adj {

/// Alignment of every planned buffer (bytes), as Storage aligns its blocks.
inline constexpr std::int64_t kPlanAlignment = 64;

// returnsView(op) (ir/op.h, the table's View family): reshape copies when the input's strides do
// not allow a view; the planner treats it as a view all the same (a copy is then allocated outside
// the arena, which is safe).

enum class BufferPlacement {
    Arena,  ///< in the reused arena at `offset`
    Own,    ///< allocated fresh on every run: graph outputs and the buffers they view
    View,   ///< no buffer: shares `aliasOf`'s (a planned value, or a source)
    InPlace,  ///< no buffer: writes over its input `overwrites`, which dies here; `aliasOf` holds the buffer
};

struct PlannedValue {
    ValueRef value;
    Shape shape;
    DType dtype = DType::F32;
    /// The buffer's size rounded up to kPlanAlignment (for InPlace, what a buffer of its own would
    /// take); 0 for views.
    std::int64_t bytes = 0;
    /// Schedule step (index into MemoryPlan::schedule) that produces the value.
    int defined = 0;
    /// Last step that reads the value or, for a buffer, any value that holds it (its views, the
    /// values written over it in place and their views); the last step of the schedule for graph
    /// outputs and the buffers they are held in.
    int lastUse = 0;
    BufferPlacement placement = BufferPlacement::Arena;
    /// View and InPlace: the value whose buffer this one shares (an Arena or Own value, or a
    /// source for a view or a write over a donated input).
    ValueRef aliasOf;
    /// InPlace: the input of this value's node whose buffer it writes over.
    ValueRef overwrites;
    /// Arena: byte offset of the buffer in the arena; -1 otherwise.
    std::int64_t offset = -1;
};

struct MemoryPlan {
    /// The nodes in the order they run (sources included; they take a step each).
    std::vector<NodeId> schedule;
    /// Every value of every non-source node of the schedule, in schedule order, ports in order.
    std::vector<PlannedValue> values;
    /// Bytes of the reused arena: the planned peak of the intermediate values.
    std::int64_t arenaBytes = 0;
    /// Bytes of the own buffers (graph outputs and what they view), allocated outside the arena.
    std::int64_t ownBytes = 0;
    /// Sum of every value's bytes (views excepted): the memory needed without any reuse.
    std::int64_t noReuseBytes = 0;
    /// The most bytes of buffers live at any one step: no placement of these buffers does better.
    std::int64_t lowerBoundBytes = 0;

    /// The planned peak: arena plus own buffers.
    std::int64_t plannedPeakBytes() const { return arenaBytes + ownBytes; }
    /// By schedule step: the bytes of the buffers (Arena and Own values) live at that step; the
    /// largest is lowerBoundBytes.
    std::vector<std::int64_t> liveBytesByStep() const;
    /// The buffer value that holds `v` (through views and writes in place); `v` itself for a
    /// buffer; nullptr for a source or a value not planned.
    const PlannedValue* bufferOf(ValueRef v) const;
    /// The value's entry, or nullptr when `v` is a source or not scheduled.
    const PlannedValue* find(ValueRef v) const;

    /// By node id: the position of the node's port 0 in `values`, -1 when not planned.
    std::vector<int> firstValueOfNode;
};

/// Plans `schedule` (a topological order of `graph`'s nodes that the outputs need: sources
/// first where used) with `typeOf` giving the type of every value of every scheduled non-source
/// node (and of the donated inputs). Throws GraphError naming the node when an input is not
/// scheduled before its user. `donated`: names of graph inputs and bound parameters whose buffers
/// may be written over.
MemoryPlan planMemory(const Graph& graph, const std::vector<NodeId>& schedule,
                      const std::function<const ValueType&(ValueRef)>& typeOf, const std::vector<std::string>& donated = {});

/// Plans the nodes the outputs need with shapes inferred from the given input shapes (inputs not
/// named take their declared shape) and the parameters' and constants' values, in the
/// topological order (liveTopoOrder) or, for MinPeak, in lowPeakOrder's when that plans a lower
/// peak (runtime/memory_schedule.h). For the GUI and the CLI: nothing runs. Throws GraphError
/// naming the node on a shape problem.
MemoryPlan planMemory(const Graph& graph, const std::map<std::string, Shape>& inputShapes = {},
                      ScheduleOrder order = ScheduleOrder::Topological, const std::vector<std::string>& donated = {});

/// The bytes of the activations a backward pass keeps: the buffers holding values that nodes in
/// `forward` compute and nodes outside it read (each buffer once). `forward` is by node id.
std::int64_t savedActivationBytes(const Graph& graph, const MemoryPlan& plan, const std::vector<char>& forward);
/// Those buffers, by index into plan.values (1 for a buffer the backward pass keeps).
std::vector<char> savedActivationBuffers(const Graph& graph, const MemoryPlan& plan, const std::vector<char>& forward);

/// As above, with the input shapes of the bound tensors (parameters bound by name use the bound
/// value's shape, as the executors do), over `schedule` (a topological order) or, for MinPeak,
/// lowPeakOrder's reordering of it when that plans a lower peak.
MemoryPlan planMemoryForBindings(const Graph& graph, const std::vector<NodeId>& schedule, const Bindings& bindings,
                                 ScheduleOrder order = ScheduleOrder::Topological, const std::vector<std::string>& donated = {});

}  // namespace adj
