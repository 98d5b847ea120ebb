#pragma once
// Forward mode: the JVP graph. Every value gets a tangent; tangents carry a leading batch axis
// of K directions (vectorized forward mode), so the full gradient of a function of n inputs takes
// one run of the JVP graph with K = n one-hot directions instead of n separate runs.
#include <map>
#include <string>
#include <vector>

#include "ir/builder.h"
#include "ir/graph.h"
#include "runtime/executor.h"

namespace adj {

struct JvpGraph {
    Graph graph;
    std::int64_t directions = 1;
    /// Graph inputs holding the tangents of the wrt values: "tangent_<name>", shape [K, ...].
    std::vector<std::string> tangentInputs;
    /// Graph outputs holding the tangents of the requested outputs: "tangent_<output>", [K, ...].
    std::vector<std::string> tangentOutputs;
    std::vector<std::string> wrt;
    /// For every node holding a tangent: the forward value it is the tangent of.
    std::map<NodeId, ValueRef> tangentOf;
};

/// Builds the JVP graph for the outputs named in `of` (empty: all) with respect to `wrt` (graph
/// inputs and parameters; empty: all), with K tangent directions. The forward outputs stay
/// outputs. Throws GraphError naming the op and node when an op has no JVP rule.
JvpGraph buildJvp(const Graph& forward, const std::vector<std::string>& of, const std::vector<std::string>& wrt, std::int64_t directions);

/// The core of forward mode: pushes `tangents` (of some values, each [K, ...value shape]) forward
/// through `order` and returns the tangent of every value reached.
std::map<ValueRef, ValueRef> forwardPropagate(GraphBuilder& b, const std::vector<NodeId>& order, std::map<ValueRef, ValueRef> tangents,
                                              std::int64_t directions, std::map<NodeId, ValueRef>* tangentOf = nullptr);

/// The JVP rule of one node (the op table's forward-mode trait): tangent of output `port` from
/// the tangents of the inputs (unset: zero). Returns an unset ValueRef when the tangent is zero.
ValueRef jvpRule(GraphBuilder& b, const Node& node, const std::vector<ValueRef>& inputTangents, int port, std::int64_t directions);

/// Gradient of the scalar output `of` with respect to `wrt` by vectorized forward mode: one run
/// of the JVP graph per chunk of at most `chunk` one-hot directions. Returns one tensor per wrt
/// name, shaped like it.
std::vector<Tensor> forwardModeGradient(const Graph& forward, const std::string& of, const std::vector<std::string>& wrt, const Bindings& bindings,
                                        Executor& executor, std::int64_t chunk = 1024, int* runs = nullptr);

}  // namespace adj
