#pragma once
// A simulated step run for real on this machine (issue #20, point 4): each device of the plan is a
// thread with a oneTBB task arena of one, running its computations on the CPU executor and sending
// its transfers (copies into the receiver's memory) in the plan's order; between tasks it spins
// as a device does instead of sleeping. A ring all-reduce step adds (reduce-scatter) or copies
// (all-gather) one chunk of its bucket's gradients. Every task is timed, so the run can be set
// beside the simulation task by task. (The simulator lets a link carry a transfer while its
// sender computes; here the sender makes the copy itself, which on this machine's memory costs
// microseconds beside milliseconds of compute.)
//
// It runs what the simulation's tasks name (SimTask::nodes, values, bucket and chunk), so it
// takes data parallelism with a ring all-reduce and pipeline parallelism, over direct links.
#include <map>
#include <string>
#include <vector>

#include "parallel/strategies.h"
#include "tensor/tensor.h"

namespace adj::parallel {

struct RealStep {
    /// From the first task's start to the last task's end.
    double stepSeconds = 0;
    /// By task of the plan: measured start and end, seconds from the step's start.
    std::vector<TaskSpan> spans;
    /// By device: bytes it sent (all-reduce chunks and activations).
    std::vector<double> sentBytes;
    /// By device: bytes it sent in all-reduce steps.
    std::vector<double> allReduceBytes;
    /// The parameters after the step's SGD update (device 0's for dp; each stage's own for pp).
    std::map<std::string, Tensor> parameters;
};

/// Runs the step of `plan` (made by simulatePartition for `model`) on `features` [batch, ...] and
/// `targets` [batch, K], with an SGD update of learning rate `lr`. Throws adj::Error for a plan it
/// cannot run (tensor parallelism, placement, a tree all-reduce, a transfer over two links) or a
/// batch that does not match the plan's.
RealStep runStepForReal(const PartitionResult& plan, const Tensor& features, const Tensor& targets, float lr);

/// The same step `warmups + runs` times on devices made once (threads, arenas and executors live
/// across the steps, as a cluster's devices do), each step from the same parameters and inputs;
/// returns the `runs` timed steps after the warm-ups (first touches of memory, the executor's
/// first plans). Each step's clock starts when it is released to the waiting devices.
std::vector<RealStep> runStepsForReal(const PartitionResult& plan, const Tensor& features, const Tensor& targets, float lr, int warmups, int runs);

/// The same step on one device, the whole batch at once: the reference a partitioned step must
/// reach (the parameters after the update).
std::map<std::string, Tensor> referenceStep(const Graph& model, train::LossKind loss, const Tensor& features, const Tensor& targets, float lr);

/// The plan's simulation again with each task's duration replaced by the measured one: the
/// simulator's account of the overlaps, waits and bubbles, given the real durations.
SimResult replayWithMeasuredDurations(const PartitionResult& plan, const RealStep& real);

}  // namespace adj::parallel
