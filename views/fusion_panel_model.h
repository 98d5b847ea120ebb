#pragma once
// The fusion groups of a graph, for the fusion panel: the graph just before elementwise fusion
// (the -O2 passes that precede it), and for each group that fusion forms there, its member nodes
// (ids in that graph), the fused node's program and cost, and what the members cost unfused.
#include <string>
#include <vector>

#include "cost/cost_model.h"
#include "ir/graph.h"
#include "passes/rewriter.h"

struct FusionGroup {
    std::string name;                 // the fused node's name
    std::vector<adj::NodeId> members;  // in FusionAnalysis::graph
    std::string program;              // the `program` attribute
    int inputCount = 0;
    adj::Cost fused;                  // cost of the fused node
    adj::Cost unfused;                // sum of the members' costs
};

struct FusionAnalysis {
    adj::Graph graph;  // before fusion, verified
    std::vector<FusionGroup> groups;
    std::vector<adj::FusionNote> notes;
};

/// Runs the -O2 passes up to fusion on a copy of `graph`, then fusion with a trace. Throws
/// adj::Error naming the problem.
FusionAnalysis analyseFusion(const adj::Graph& graph);
/// The generated CPU kernel of a fused program as readable C++-like text (one loop over the
/// elements, one line per instruction).
std::string fusedKernelSource(const FusionGroup& group);
