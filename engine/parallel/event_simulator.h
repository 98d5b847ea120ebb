#pragma once
// The discrete-event simulator under every partitioning strategy (issue #20): a step is a set of
// tasks (a computation on a device, or a transfer over one direction of a link) with
// dependencies. Each device runs its computations one at a time in the order they were added
// (a pipeline schedule such as 1F1B is that order); each direction of a link carries one transfer
// at a time, the one that became ready first going first. Time advances from event to event (a
// task ends, its dependents may start), so the result is exact for the model: no time steps.
#include <string>
#include <vector>

#include "ir/graph.h"
#include "parallel/cluster.h"

namespace adj::parallel {

enum class TaskKind { Compute, Transfer };

/// What a task is part of, for colouring the Gantt chart and summing time by kind.
enum class TaskPhase { Forward, Backward, Update, Collective, Activation };
const char* taskPhaseName(TaskPhase phase);

struct SimTask {
    TaskKind kind = TaskKind::Compute;
    TaskPhase phase = TaskPhase::Forward;
    /// Compute: the device that computes. Transfer: the sending device.
    int device = 0;
    /// Transfer: the link and the receiving device (one of the link's ends).
    int link = -1;
    int toDevice = -1;
    double seconds = 0;
    double bytes = 0;
    /// Tasks (indices) that must end before this one starts.
    std::vector<int> after;
    /// Memory on `device` (compute tasks): taken when the task starts, given back when it ends.
    double allocateBytes = 0;
    double releaseBytes = 0;
    int microbatch = -1;
    std::string label;

    // What a real run of the step does for the task (parallel/real_execution.h):
    /// a computation: the workload's nodes it runs, in order;
    std::vector<NodeId> nodes;
    /// a transfer of activations or adjoints: the values it carries;
    std::vector<ValueRef> values;
    /// a step of a ring all-reduce: its bucket and chunk, and whether the receiver adds the chunk
    /// to its own (reduce-scatter) or takes it (all-gather).
    int bucket = -1;
    int chunk = -1;
    bool reduce = false;
};

struct TaskSpan {
    double start = 0;
    double end = 0;
};

struct SimResult {
    double stepSeconds = 0;
    /// By task index.
    std::vector<TaskSpan> spans;
    /// By device: seconds spent computing; the most memory held at once (resident bytes included).
    std::vector<double> busySeconds;
    std::vector<double> peakBytes;
    /// By link (Cluster::links), both directions together: bytes carried, seconds busy.
    std::vector<double> linkBytes;
    std::vector<double> linkBusySeconds;
};

/// A step under construction: tasks are added in each device's execution order.
class StepTasks {
public:
    /// Adds a task; returns its index.
    int add(SimTask task);
    /// A computation of `seconds` on `device` after `after`.
    int compute(int device, double seconds, TaskPhase phase, std::vector<int> after, std::string label, int microbatch = -1);
    /// Sends `bytes` from one device to another along the cluster's route (one task per hop, each
    /// after the one before); returns the last hop's task, or `-1` when from == to (nothing to
    /// send). The first hop starts after `after`.
    int send(const Cluster& cluster, int from, int to, double bytes, TaskPhase phase, std::vector<int> after, const std::string& label,
             int microbatch = -1);
    std::vector<SimTask>& tasks() { return tasks_; }
    const std::vector<SimTask>& tasks() const { return tasks_; }

private:
    std::vector<SimTask> tasks_;
};

/// Seconds of one transfer of `bytes` over `link`: latency + bytes / bandwidth.
double transferSeconds(const ClusterLink& link, double bytes);

/// Runs the step. `residentBytes` (by device; may be empty) counts from the start toward each
/// device's peak: parameters, gradients and optimizer state. adj::Error when the dependencies
/// and the devices' orders of work form a cycle (the step would deadlock); std::logic_error when a
/// task names no device or link of the cluster.
SimResult simulate(const Cluster& cluster, const std::vector<SimTask>& tasks, const std::vector<double>& residentBytes = {});

}  // namespace adj::parallel
