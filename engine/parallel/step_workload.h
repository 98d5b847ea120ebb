#pragma once
// One training step of a model as the partitioner sees it: the model with its loss
// (train/training_step.h) and the backward graph of that loss with respect to the parameters
// (autodiff/reverse_mode.h), at one batch size; each node's cost (cost/cost_model.h); the
// forward node that each backward node works for (so that a split of the forward graph places
// the backward work with it); the activations the backward pass keeps; and the parameters with
// their gradients in the order the backward pass completes them (the order in which data
// parallelism can start reducing them).
#include <cstdint>
#include <string>
#include <vector>

#include "cost/cost_model.h"
#include "ir/graph.h"
#include "parallel/cluster.h"
#include "train/losses.h"

namespace adj::parallel {

struct ParameterGradient {
    std::string name;
    NodeId parameter = kNoNode;
    /// The node whose output is the complete gradient, and that output.
    NodeId gradient = kNoNode;
    ValueRef value;
    double bytes = 0;
};

struct StepWorkload {
    Graph graph;
    std::int64_t batch = 0;
    train::LossKind loss = train::LossKind::CrossEntropy;
    /// The nodes one step computes (no sources), in topological order, and by node id the place
    /// of each in it (-1 for sources).
    std::vector<NodeId> order;
    std::vector<int> position;
    /// By node id: 1 for the forward pass (the model and its loss).
    std::vector<char> forward;
    /// By node id: the forward node a node's work belongs to (itself for a forward node).
    std::vector<NodeId> owner;
    /// By node id.
    std::vector<Cost> cost;
    std::vector<double> outputBytes;
    /// By node id: 1 for a forward node whose output the backward pass keeps (through views: the
    /// node that holds the memory).
    std::vector<char> saved;
    /// In the order the backward pass completes them.
    std::vector<ParameterGradient> parameters;
    double parameterBytes = 0;
    /// By node id: seconds measured on one thread of this machine (parallel/node_profile.h),
    /// for devices that are this machine's threads; empty when not measured.
    std::vector<double> measuredSeconds;
    /// The measured fixed cost of one run of the CPU executor beyond its nodes' times (its plan
    /// looked up, bindings, outputs handed back): what each task of such a device pays once.
    double measuredRunSeconds = 0;

    bool isForward(NodeId id) const { return forward[std::size_t(id)] != 0; }
    /// The forward nodes in topological order.
    std::vector<NodeId> forwardOrder() const;
};

/// The step of `model` (one input of features [N, ...], one output [N, K]: what `train` takes)
/// with `loss`, at `batch` rows. Throws adj::Error when the model does not train (an op without
/// a VJP rule, no parameters, a loss that does not fit).
StepWorkload buildStepWorkload(const Graph& model, train::LossKind loss, std::int64_t batch);

/// Seconds of work of cost `c` on `device`: the roofline's max(FLOPs / peak, bytes / bandwidth),
/// plus the device's launch cost when the work is a kernel at all (views cost nothing).
double workSeconds(const Cost& c, const ClusterDevice& device);
/// Seconds of node `id` on `device`: its measured time when the device is one of this machine's
/// threads (ClusterDevice::measured) and the workload was measured, else workSeconds of its cost.
double nodeSeconds(const StepWorkload& w, NodeId id, const ClusterDevice& device);
/// One kernel of each node, summed (nodeSeconds).
double workSeconds(const StepWorkload& w, const std::vector<NodeId>& nodes, const ClusterDevice& device);
/// The values of `nodes` (a task's) that leave them: read by a node outside, or a graph output;
/// in the nodes' order, then by port.
std::vector<ValueRef> valuesLeaving(const Graph& g, const std::vector<NodeId>& nodes);
/// The nodes as one task of `device`: workSeconds plus, on a measured device, one executor run's
/// fixed cost (StepWorkload::measuredRunSeconds) and the write of the values that leave the task
/// (at the device's bandwidth).
double taskSeconds(const StepWorkload& w, const std::vector<NodeId>& nodes, const ClusterDevice& device);

/// The cost of one SGD update of `bytes` of parameters (read parameter and gradient, write the
/// parameter: 2 FLOPs and 12 bytes per float).
Cost updateCost(double bytes);

}  // namespace adj::parallel
