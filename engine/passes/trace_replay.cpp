#include "passes/trace_replay.h"

#include "base/errors.h"
#include "io/json_format.h"
#include "ir/verifier.h"

namespace adj {
namespace {

ValueRef valueByName(const Graph& g, const std::string& name, const RewriteStep& step) {
    auto v = g.findValue(name);
    if (!v) throw GraphError("rewrite trace step '" + step.rule + "' at '" + step.root + "': unknown value '" + name + "'");
    return *v;
}

void verifyReplay(Graph& g) {
    const auto problems = verifyGraph(g);
    if (!problems.empty()) throw GraphError("replayed rewrite trace does not verify: " + problems.front().message);
}

}  // namespace

Graph replayInitialGraph(const RewriteTrace& trace) {
    Graph g = parseGraphJson(trace.initialGraphJson, "rewrite trace");
    verifyReplay(g);
    return g;
}

void replayStep(Graph& g, const RewriteStep& step, bool removeNodes) {
    for (const TraceNode& t : step.added) {
        if (g.findNode(t.name))
            throw GraphError("rewrite trace step '" + step.rule + "' adds '" + t.name + "', which already exists");
        NodeId id = kNoNode;
        if (t.op == Op::Constant || t.op == Op::Parameter) {
            const Tensor value = t.values.empty() || t.valuesOmitted ? Tensor::zeros(t.shape)
                                                                           : Tensor::fromVector(t.shape, t.values);
            id = t.op == Op::Constant ? g.addConstant(value, t.name) : g.addParameter(t.name, value);
        } else {
            std::vector<ValueRef> inputs;
            for (const std::string& in : t.inputs) inputs.push_back(valueByName(g, in, step));
            id = g.addNode(t.op, std::move(inputs), t.attrs, t.name);
        }
        // the group the rewrite gave it (ir/group_tree.h): the timeline draws the same frames
        if (!t.group.empty()) g.node(id).meta["group"] = t.group;
        if (!t.groupCollapsed.empty()) g.node(id).meta["group_collapsed"] = t.groupCollapsed;
    }
    for (const auto& [from, to] : step.rewired) g.replaceAllUses(valueByName(g, from, step), valueByName(g, to, step));
    for (const RetargetedInput& r : step.retargeted) {
        auto user = g.findNode(r.user);
        if (!user || r.input < 0 || std::size_t(r.input) >= g.node(*user).inputs.size())
            throw GraphError("rewrite trace step '" + step.rule + "' sets input " + std::to_string(r.input) + " of '" + r.user +
                             "', which it does not have");
        g.setInput(*user, r.input, valueByName(g, r.value, step));
    }
    if (!removeNodes) return;
    for (const std::string& name : step.removed) {
        auto id = g.findNode(name);
        if (!id) throw GraphError("rewrite trace step '" + step.rule + "' removes unknown node '" + name + "'");
        if (!g.users(*id).empty())
            throw GraphError("rewrite trace step '" + step.rule + "' removes '" + name + "', which is still used");
        g.removeNode(*id);
    }
}

ReplayedStep replayTo(const RewriteTrace& trace, int k) {
    if (k < 0 || k >= int(trace.steps.size()))
        throw GraphError("rewrite trace has no step " + std::to_string(k + 1) + " (it has " + std::to_string(trace.steps.size()) + ")");
    ReplayedStep r;
    r.graph = replayInitialGraph(trace);
    for (int i = 0; i < k; ++i) replayStep(r.graph, trace.steps[std::size_t(i)]);
    const RewriteStep& step = trace.steps[std::size_t(k)];
    replayStep(r.graph, step, false);
    for (const TraceNode& t : step.added) r.added.push_back(*r.graph.findNode(t.name));
    for (const std::string& name : step.removed)
        if (auto id = r.graph.findNode(name)) r.removed.push_back(*id);
    verifyReplay(r.graph);
    return r;
}

Graph replayAfter(const RewriteTrace& trace, int count) {
    Graph g = replayInitialGraph(trace);
    for (int i = 0; i < count && i < int(trace.steps.size()); ++i) replayStep(g, trace.steps[std::size_t(i)]);
    verifyReplay(g);
    return g;
}

}  // namespace adj
