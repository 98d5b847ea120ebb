#pragma once
// The cost model: a Cost is a value that adds up; each op's FLOPs follow its cost class in
// ops.def. Per node: FLOPs and
// bytes read and written; arithmetic intensity = FLOPs / bytes moved. Views (reshape, transpose,
// slice, expand...) move no memory; sources are read by their users.
#include <cstdint>
#include <vector>

#include "ir/graph.h"

namespace adj {

struct Cost {
    double flops = 0;
    double bytesRead = 0;
    double bytesWritten = 0;

    double bytes() const { return bytesRead + bytesWritten; }
    /// FLOPs per byte moved (0 when nothing moves).
    double intensity() const { return bytes() > 0 ? flops / bytes() : 0.0; }
    Cost& operator+=(const Cost& o) {
        flops += o.flops;
        bytesRead += o.bytesRead;
        bytesWritten += o.bytesWritten;
        return *this;
    }
    friend Cost operator+(Cost a, const Cost& b) { return a += b; }
    friend Cost operator*(Cost a, double k) { return Cost{a.flops * k, a.bytesRead * k, a.bytesWritten * k}; }
};

/// Cost of one node, from the types stored on the graph (run the verifier first).
Cost nodeCost(const Graph& graph, NodeId id);
/// Sum over the nodes the outputs need.
Cost graphCost(const Graph& graph);

/// Peak bytes of live values when the graph runs in topological order, each value freed after its
/// last use (views and sources count nothing; parameters are counted once, as resident).
double peakMemoryBytes(const Graph& graph);

}  // namespace adj
