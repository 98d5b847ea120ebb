#pragma once
// The backend interface, small on purpose: an Executor names itself, says which ops it
// supports, and runs a graph on bound inputs. The CPU executor is the reference that every other
// backend is tested against.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/errors.h"
#include "ir/graph.h"
#include "runtime/memory_schedule.h"
#include "tensor/tensor.h"

namespace adj {

/// Values bound to graph inputs by name (parameters carry their own values, but may be
/// overridden here by name too).
using Bindings = std::map<std::string, Tensor>;

struct RunOptions {
    /// Keep every node's output values (for inspectors and heatmaps), not only the graph outputs.
    bool keepAllValues = false;
    /// Stop at the first node whose output holds a NaN or Inf, naming it.
    bool checkFinite = false;
    /// Let the backend write intermediate values into a planned, reused arena
    /// (runtime/memory_plan.h); false allocates every value as it goes (the reference path).
    /// keepAllValues turns the planner off too, since every value is handed to the caller.
    bool planMemory = true;
    /// The order a planned run executes its nodes in: the topological one, or the min-peak order
    /// when it plans a lower peak (runtime/memory_schedule.h). Unplanned runs go in topological
    /// order; a backend without a planner ignores it.
    ScheduleOrder schedule = ScheduleOrder::Topological;
    /// Graph inputs and bound parameters whose tensors a planned run may write over
    /// (runtime/memory_plan.h): the
    /// elementwise node that reads one last writes its output into it, as JAX's donate_argnums,
    /// so a training step updates its parameters in place. The caller gives up those tensors: after
    /// the run (or a failed one) read them only through the outputs. Backends without a planner
    /// ignore it.
    std::vector<std::string> donatedInputs;
};

struct RunResult {
    /// Graph outputs in graph order (contiguous).
    std::vector<Tensor> outputs;
    /// With keepAllValues: every computed value, indexed by node id then port.
    std::map<ValueRef, Tensor> values;
    /// Wall time per node in microseconds, indexed by node id (0 for nodes not run).
    std::vector<double> nodeMicros;
    /// Bytes of the memory plan's arena that the run kept its intermediate values in; 0 when the
    /// run was not planned (keepAllValues, planMemory off, or a backend without a planner).
    std::int64_t arenaBytes = 0;
    /// The most bytes of computed values the run held at once, measured: the arena (counted
    /// whole) plus every buffer allocated outside it (graph outputs, unplanned values), views
    /// counted once with the buffer they view, sources (the caller's) not at all. Vulkan: the most
    /// device-local bytes in use beyond what was resident when the run began (cached parameters
    /// are not counted, bindings uploaded for this run are). 0 when the backend does not measure it.
    std::int64_t peakLiveBytes = 0;
};

/// A backend's device failed while running a graph that is itself fine (Vulkan: a lost device, out
/// of device memory, a failed submit). The same graph can still run on another backend: training
/// goes on on the CPU (train::Trainer::setFallback).
class DeviceError : public Error {
public:
    using Error::Error;
};

/// A backend lacks what a graph needs (Vulkan: an op without a shader, integer or f64 values), so
/// the graph cannot run there at all; another backend can run it, and FallbackExecutor lets the
/// CPU do so with a note.
class BackendUnsupported : public Error {
public:
    using Error::Error;
};

class Executor {
public:
    virtual ~Executor() = default;
    virtual std::string name() const = 0;
    /// The device's name ("CPU (2 threads)", "llvmpipe (LLVM 15.0.6, 256 bits)").
    virtual std::string deviceName() const = 0;
    virtual bool supports(Op op) const = 0;
    /// Runs the nodes that the outputs need. Throws adj::Error naming the missing binding, the
    /// failing node, or the first non-finite node (with RunOptions::checkFinite); DeviceError when
    /// the device itself failed.
    virtual RunResult run(const Graph& graph, const Bindings& bindings, const RunOptions& options = {}) = 0;
};

std::unique_ptr<Executor> makeCpuExecutor();

}  // namespace adj
