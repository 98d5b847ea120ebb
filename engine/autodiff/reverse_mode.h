#pragma once
// Reverse mode: the explicit backward graph. From a forward graph and a scalar output (or a
// seeded output adjoint), builds one graph holding the forward nodes and, after them, the
// backward nodes: one adjoint per forward value, summed over fan-out, broadcasts reduced back,
// computed in reverse topological order. The result is a Graph like any other: it can be
// printed, exported, optimized, run, and differentiated again.
#include <map>
#include <string>
#include <vector>

#include "ir/builder.h"
#include "ir/graph.h"

namespace adj {

struct BackwardOptions {
    /// Names of graph inputs and parameters to differentiate with respect to; empty: all.
    std::vector<std::string> wrt;
    /// Seed the output adjoint with a new graph input "seed_<output>" of the output's shape
    /// (a vector-Jacobian product) instead of the constant 1 of a scalar output.
    bool seedInput = false;
    /// Keep the forward graph's outputs as outputs of the backward graph (after the gradients).
    bool keepForwardOutputs = false;
};

struct BackwardGraph {
    Graph graph;
    /// For every backward node that holds the complete adjoint of a forward value: that value.
    /// (Also in the node's meta as "adjoint_of".)
    std::map<NodeId, ValueRef> adjointOf;
    /// Forward values that the backward nodes read: the tensors the backward pass keeps alive.
    std::vector<ValueRef> savedValues;
    /// By node id (in `graph`; may be shorter than idBound()): for a backward node, the forward
    /// node whose VJP rule made it, or whose outputs' adjoint contributions it sums (a source's
    /// for a parameter's gradient); the seed is made for the output it differentiates. kNoNode
    /// for forward nodes. The partitioner places backward work by it (parallel/step_workload.h).
    std::vector<NodeId> madeFor;
    /// Node ids (in `graph`) of the forward part; everything else is backward.
    std::vector<NodeId> forwardNodes;
    /// The graph outputs holding the gradients, in the order of `wrt`: "grad_<name>".
    std::vector<std::string> gradientOutputs;
    std::vector<std::string> wrt;
};

/// Builds the backward graph of `forward` for the output named `of`. Throws GraphError when the
/// output is unknown or not a scalar (without seedInput), when a wrt name is not an input or
/// parameter, or when an op on the path has no VJP rule (naming the op and node).
BackwardGraph buildBackward(const Graph& forward, const std::string& of, const BackwardOptions& options = {});

/// The core of reverse mode, shared by buildBackward and by rules that differentiate a
/// decomposition: propagates `seeds` (adjoints of some values) backwards through `order`
/// (forward nodes in topological order) and returns the accumulated adjoint of each value in
/// `targets` (kNoNode node for "no gradient"). Records complete adjoints in `adjointOf`.
std::vector<ValueRef> backpropagate(GraphBuilder& b, const std::vector<NodeId>& order, const std::map<ValueRef, ValueRef>& seeds,
                                    const std::vector<ValueRef>& targets, std::map<NodeId, ValueRef>* adjointOf = nullptr,
                                    std::vector<NodeId>* madeFor = nullptr);

}  // namespace adj
