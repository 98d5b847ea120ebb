#pragma once
// The text form of a graph: one node a line, in topological order, stable across runs. Golden
// tests, the CLI and the GUI's text view use it.
//
//   graph mlp
//     input  %x : [N=4, 2]
//     param  %w1 : [2, 8]
//     %h = matmul(%x, %w1) : [4, 8]
//     %s = sum(%h) {axes=[1], keepdims=1} : [4, 1]
//     output y = %s
#include <string>
#include <vector>

#include "ir/graph.h"

namespace adj {

struct PrintOptions {
    bool shapes = true;
};

std::string printGraph(const Graph& graph, const PrintOptions& options = {});
/// The lines of a printed graph (printGraph's text), sorted: two graphs with the same nodes
/// compare equal whatever order they list them in, and std::includes tells a part of a graph.
std::vector<std::string> sortedPrintedLines(const std::string& printed);
/// One node's line (without indentation).
std::string printNode(const Graph& graph, NodeId id, const PrintOptions& options = {});

}  // namespace adj
