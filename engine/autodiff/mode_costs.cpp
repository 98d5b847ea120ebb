#include "autodiff/mode_costs.h"

#include "autodiff/forward_mode.h"
#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "ir/verifier.h"

namespace adj {

AutodiffCostReport autodiffCosts(const Graph& graphIn, const std::string& of, const std::vector<std::string>& wrt) {
    Graph graph = graphIn;
    verifyOrThrow(graph);
    AutodiffCostReport r;
    const GraphOutput* out = nullptr;
    for (const auto& o : graph.outputs())
        if (o.name == of) out = &o;
    if (!out) throw GraphError("the graph has no output named '" + of + "'");
    r.outputs = numel(graph.type(out->value).shape);
    for (const auto& name : wrt) {
        auto id = graph.findNode(name);
        if (!id) throw GraphError("no input or parameter named '" + name + "'");
        r.inputs += numel(graph.type({*id, 0}).shape);
    }
    Graph only = graph;
    only.setOutputs({*out});
    r.forwardPass = graphCost(only);
    r.forwardNodes = only.liveTopoOrder().size();

    BackwardGraph bw = buildBackward(graph, of, {wrt, true, false});
    const Cost bwCost = graphCost(bw.graph);
    r.reverseMode = {r.outputs, bwCost.flops * double(r.outputs), peakMemoryBytes(bw.graph)};
    r.backwardNodes = bw.graph.nodeCount() - bw.forwardNodes.size();

    JvpGraph one = buildJvp(graph, {of}, wrt, 1);
    const Cost jvpCost = graphCost(one.graph);
    r.forwardMode = {r.inputs, jvpCost.flops * double(r.inputs), peakMemoryBytes(one.graph)};
    if (r.inputs <= 4096) {
        JvpGraph all = buildJvp(graph, {of}, wrt, std::max<std::int64_t>(1, r.inputs));
        r.forwardVectorized = {1, graphCost(all.graph).flops, peakMemoryBytes(all.graph)};
    }
    r.numeric = {2 * r.inputs, 2.0 * double(r.inputs) * r.forwardPass.flops, peakMemoryBytes(only)};
    return r;
}

}  // namespace adj
