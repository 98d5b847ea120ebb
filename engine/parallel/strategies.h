#pragma once
// Partitioning strategies for one training step over a cluster (issue #20), each built as
// simulator tasks (parallel/event_simulator.h) from the model's step (parallel/step_workload.h):
//
//   dp   data parallel: every device holds the whole model and a 1/n share of the batch; the
//        gradients are all-reduced (ring or tree) in buckets as the backward pass completes them,
//        overlapping it, as PyTorch's DistributedDataParallel does; then each device updates.
//   pp   pipeline parallel: the forward graph cut into n contiguous stages of equal work (the
//        backward work of each node counted with it), the batch into m micro-batches run as
//        GPipe (all forwards, then all backwards) or 1F1B (one forward, one backward, holding at
//        most n - s micro-batches' activations on stage s); activations and their adjoints cross
//        the cuts.
//   tp   tensor parallel, as Megatron-LM splits matmuls: a matmul with a weight after a
//        replicated value splits the weight by columns (its output stays split, elementwise ops
//        after it too); the next matmul with a weight splits by rows and all-reduces its output;
//        a split value that anything else reads is all-gathered first. In the backward pass a
//        column split all-reduces the gradient of its input.
//   placement  by hand: each node on the device its "device" meta names (the canvas sets it);
//        unplaced nodes go with their latest input.
//
// Each gives the step time, each device's busy time and peak memory (parameters, gradients and
// the activations kept for the backward pass), the bytes on each link, and the device of each
// forward node for the view.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "parallel/cluster.h"
#include "parallel/collectives.h"
#include "parallel/event_simulator.h"
#include "train/losses.h"

namespace adj::parallel {

struct StepWorkload;

enum class StrategyKind { DataParallel, PipelineParallel, TensorParallel, Placement };
enum class PipelineSchedule { GPipe, OneFOneB };

struct PartitionOptions {
    StrategyKind kind = StrategyKind::DataParallel;
    /// Devices used: the first `devices` of the cluster; 0: all of them.
    int devices = 0;
    /// The global batch of one step (rows); 0: the model's own batch, or 32 when that is 1.
    std::int64_t batch = 0;
    int microbatches = 4;
    AllReduceAlgorithm allReduce = AllReduceAlgorithm::Ring;
    PipelineSchedule schedule = PipelineSchedule::OneFOneB;
    /// Gradients go into all-reduce buckets of at least this many bytes (DDP's 25 MB).
    double bucketBytes = 25e6;
    train::LossKind loss = train::LossKind::CrossEntropy;
};

/// Where a forward node of the model runs, for the view's colours.
inline constexpr int kAllDevices = -1;    // replicated: every device runs it on its share
inline constexpr int kSplitDevices = -2;  // split across every device (tensor parallel)

/// A value that crosses from one device to another in a step.
struct CrossEdge {
    std::string from, to;  // node names in the model
    int fromDevice = 0, toDevice = 0;
    double bytes = 0;      // per step (all micro-batches, forward and backward)
};

struct DeviceUse {
    std::string name;
    double busySeconds = 0;
    double peakBytes = 0;
    double memoryBytes = 0;
};

struct LinkUse {
    std::string a, b;
    double bytes = 0;
    double busySeconds = 0;
};

struct PartitionResult {
    StrategyKind kind = StrategyKind::DataParallel;
    /// "dp-ring", "dp-tree", "pp-gpipe", "pp-1f1b", "tp", "placement".
    std::string key;
    /// In words: "data parallel, ring all-reduce, 2 devices, batch 64".
    std::string description;
    Cluster cluster;  // the devices used
    std::int64_t batch = 0;
    int microbatches = 1;
    StepTasks tasks;
    SimResult sim;
    double stepSeconds = 0;
    std::vector<DeviceUse> devices;
    std::vector<LinkUse> links;
    /// dp: the gradient bytes all-reduced and the bytes each device sent doing it.
    double gradientBytes = 0;
    double allReduceBytesPerDevice = 0;
    /// By model node name: a device index, kAllDevices or kSplitDevices.
    std::map<std::string, int> deviceOfNode;
    std::vector<CrossEdge> crossEdges;
    /// Empty when every device holds its share; otherwise the first device that does not, in words.
    std::string overflow;
    /// The step the tasks run (the batch of one device for dp, of one micro-batch for pp, the
    /// whole batch for tp and placement; the tasks' nodes and values are its ids), and for dp the
    /// gradients of each bucket.
    std::shared_ptr<const StepWorkload> workload;
    std::vector<std::vector<std::string>> buckets;

    bool fits() const { return overflow.empty(); }
};

/// Simulates one strategy. Throws adj::Error naming the problem: a model that does not train, a
/// batch that does not split over the devices or micro-batches, fewer layers than stages, no
/// matmul with a weight for tp, a placement naming an unknown device.
PartitionResult simulatePartition(const Graph& model, const Cluster& cluster, const PartitionOptions& options);

/// Every strategy that applies (dp ring and tree, pp GPipe and 1F1B, tp), fastest first among
/// those that fit, then those that do not. The strategies that do not apply are left out.
std::vector<PartitionResult> compareStrategies(const Graph& model, const Cluster& cluster, const PartitionOptions& options);

/// "dp", "pp", "tp", "placement" and back.
std::optional<StrategyKind> strategyFromName(const std::string& name);
const char* strategyName(StrategyKind kind);

/// The meta key of a node's device under placement by hand (a device index or name).
inline constexpr const char* kDeviceMetaKey = "device";

}  // namespace adj::parallel
