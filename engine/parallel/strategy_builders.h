#pragma once
// What the strategies share (strategies.cpp calls them; one file each). Not a public header: see
// parallel/strategies.h.
#include <memory>
#include <vector>

#include "parallel/step_workload.h"
#include "parallel/strategies.h"

namespace adj::parallel::detail {

struct BuildRequest {
    const Graph& model;
    const Cluster& cluster;  // the devices used
    const PartitionOptions& options;
    std::int64_t batch = 0;
};

/// Each fills result.tasks, .description, .key, .deviceOfNode, .crossEdges (and dp's gradient
/// figures) and returns the resident bytes of each device (parameters, gradients).
std::vector<double> buildDataParallel(const BuildRequest& request, PartitionResult& result);
std::vector<double> buildPipelineParallel(const BuildRequest& request, PartitionResult& result);
std::vector<double> buildTensorParallel(const BuildRequest& request, PartitionResult& result);
std::vector<double> buildPlacement(const BuildRequest& request, PartitionResult& result);

/// The step at `batch` rows, its nodes timed on this machine when a device is one of its threads
/// (ClusterDevice::measured, parallel/node_profile.h).
std::shared_ptr<StepWorkload> makeWorkload(const BuildRequest& request, std::int64_t batch);
/// The model's node of the same name as workload node `id`, or kNoNode (the loss's nodes).
NodeId modelNodeOf(const Graph& model, const StepWorkload& w, NodeId id);
/// Bytes of one value.
double valueBytes(const Graph& g, ValueRef v);
/// Adds the cross-device edge (from node, to node) or its bytes to an existing one.
void addCrossEdge(std::vector<CrossEdge>& edges, const std::string& from, const std::string& to, int fromDevice, int toDevice, double bytes);

}  // namespace adj::parallel::detail
