#pragma once
// Node times measured on this machine, for devices that are this machine's own threads (the
// `local` preset): the roofline gives one peak for every op, while a thread runs a GEMM near its
// vector peak and a tanh or an exp at the speed of the scalar library, and every kernel pays the
// executor's dispatch. So for such devices the simulator times each node of the step instead:
// the step runs on one thread (a oneTBB arena of one) beside the other devices' threads, once to
// warm up and then kMeasuredRuns times, and each node gets its median. Partitioners of real systems profile op costs the same
// way (FlexFlow, Alpa); what the simulator adds is the schedule: overlaps, waits, bubbles and
// transfers.
#include <vector>

#include "parallel/step_workload.h"

namespace adj::parallel {

inline constexpr int kMeasuredRuns = 3;

struct NodeProfile {
    /// By node id: seconds (0 for sources and nodes not run).
    std::vector<double> seconds;
    /// One executor run's time beyond its nodes' (StepWorkload::measuredRunSeconds).
    double runSeconds = 0;
};

/// Seconds of each node of `w`'s graph, and of a run's fixed cost, measured
/// on one thread of this machine with random features and one-hot targets, while `concurrent` - 1
/// other threads run the same step (the devices of a plan run at once and share the machine's
/// memory bandwidth and caches; the median over every thread's runs). The last few results are
/// kept in memory by the graph's text, batch and concurrency, so the partition view's slider does
/// not measure again. Throws adj::Error when the step does not run.
NodeProfile measureNodeSeconds(const StepWorkload& w, int concurrent);

}  // namespace adj::parallel
