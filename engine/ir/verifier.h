#pragma once
// The verifier: structure (cycles, dangling inputs, arity, names), attributes (known, typed,
// required) and shapes (by running inference over the graph). It collects every problem it can
// find, each naming its node, rather than stopping at the first.
#include <string>
#include <vector>

#include "ir/graph.h"

namespace adj {

struct Diagnostic {
    NodeId node = kNoNode;  // kNoNode for graph-level problems
    std::string message;    // names the node and the problem
};

/// Checks the graph and stores inferred output types on every node it can reach. Nodes
/// downstream of a failing node get no types. Returns all problems found (empty: valid).
std::vector<Diagnostic> verifyGraph(Graph& graph);

/// verifyGraph, then throws GraphError with the first problem (and the count of the others).
void verifyOrThrow(Graph& graph);

/// Checks one node's attributes against its op's schema; returns problems (empty: fine).
std::vector<std::string> checkAttributes(const Node& node);

}  // namespace adj
