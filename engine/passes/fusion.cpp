#include <algorithm>
#include <map>
#include <set>

#include "ir/fused_program.h"
#include "passes/matchers.h"
#include "passes/passes.h"

namespace adj {

using namespace match;

namespace {

constexpr std::size_t kMaxGroupInstrs = 64;
constexpr std::size_t kMaxGroupInputs = 16;

bool fusible(Op op) { return isElementwise(op) && !isSource(op); }
/// A fused kernel computes in float32: a node that reads or makes integer or bool values stays out.
bool floatOnly(const Graph& g, const Node& n) {
    for (const ValueRef& v : n.inputs)
        if (g.type(v).dtype != DType::F32) return false;
    for (const ValueType& t : n.outputs)
        if (t.dtype != DType::F32) return false;
    return true;
}

/// Instructions a node brings into a group: its program's for a `fused` node, else one.
std::size_t instructionCount(const Node& n) {
    return n.op == Op::Fused ? parseFusedProgram(stringAttr(n, "program")).instrs.size() : 1;
}

/// True when the root's only use is one elementwise consumer of the same shape: that consumer
/// roots the group instead (the worklist visits consumers first).
bool defersToConsumer(const Rewriter& rw, const Node& root) {
    const Node* c = soleUser(rw, root.id);
    return c && fusible(c->op) && floatOnly(rw.graph(), *c) && !c->outputs.empty() && c->outputs[0].shape == root.outputs[0].shape;
}

/// Why producer `p` cannot join the group rooted at a node with output shape `shape` (empty: it can).
std::string rejectReason(const Rewriter& rw, const Node& p, const Shape& shape, const std::set<NodeId>& group) {
    const Graph& g = rw.graph();
    if (!fusible(p.op)) return "not elementwise";
    if (!floatOnly(g, p)) return "integer or bool values";
    if (p.outputs.empty() || p.outputs[0].shape != shape) return "broadcast changes shape";
    if (rw.isGraphOutput(p.id)) return "producer is a graph output";
    for (const auto& u : g.users(p.id))
        if (!group.count(u.user)) return "producer has users outside the group";
    return {};
}

/// The group grown backwards from a root, and the producers left out with the reason.
struct FusionGroup {
    std::set<NodeId> nodes;
    std::vector<NodeId> members;                                // the root first, then in order of joining
    std::map<std::pair<NodeId, NodeId>, std::string> rejected;  // (producer, consumer) -> reason
};

FusionGroup growGroup(const Rewriter& rw, const Node& root) {
    const Graph& g = rw.graph();
    const Shape& shape = root.outputs[0].shape;
    FusionGroup grp{{root.id}, {root.id}, {}};
    std::size_t instrs = instructionCount(root);
    for (bool grew = true; grew;) {
        grew = false;
        grp.rejected.clear();
        for (std::size_t mi = 0; mi < grp.members.size(); ++mi) {  // grows while we walk it
            const NodeId m = grp.members[mi];
            for (const auto& v : g.node(m).inputs) {
                if (grp.nodes.count(v.node) || !g.contains(v.node)) continue;
                const Node& p = g.node(v.node);
                if (isSource(p.op)) continue;
                std::string why = rejectReason(rw, p, shape, grp.nodes);
                const std::size_t pi = instructionCount(p);
                if (why.empty() && instrs + pi > kMaxGroupInstrs) why = "group is full";
                if (!why.empty()) {
                    grp.rejected[{p.id, m}] = why;
                    continue;
                }
                grp.nodes.insert(p.id);
                grp.members.push_back(p.id);
                instrs += pi;
                grew = true;
            }
        }
    }
    return grp;
}

/// The members in dependency order (depth first from the root).
std::vector<NodeId> dependencyOrder(const Graph& g, const FusionGroup& grp, NodeId root) {
    std::vector<NodeId> order;
    std::set<NodeId> placed;
    std::vector<std::pair<NodeId, std::size_t>> stack{{root, 0}};
    while (!stack.empty()) {
        auto& [n, i] = stack.back();
        const auto& ins = g.node(n).inputs;
        if (i < ins.size()) {
            const NodeId in = ins[i++].node;
            if (grp.nodes.count(in) && !placed.count(in)) stack.push_back({in, 0});
            continue;
        }
        if (placed.insert(n).second) order.push_back(n);
        stack.pop_back();
    }
    return order;
}

/// The group as one program over its external inputs (in order of first use); `fused` members
/// are inlined.
FusedProgram groupProgram(const Graph& g, const FusionGroup& grp, NodeId root, std::vector<ValueRef>& inputs) {
    auto inputIndex = [&](ValueRef v) {
        auto it = std::find(inputs.begin(), inputs.end(), v);
        if (it != inputs.end()) return int(it - inputs.begin());
        inputs.push_back(v);
        return int(inputs.size()) - 1;
    };
    FusedProgram prog;
    std::map<NodeId, int> regOf;
    for (NodeId m : dependencyOrder(g, grp, root)) {
        const Node& n = g.node(m);
        auto operand = [&](ValueRef v) {
            FusedOperand a;
            if (grp.nodes.count(v.node)) {
                a.isInput = false;
                a.index = regOf.at(v.node);
            } else {
                a.index = inputIndex(v);
            }
            return a;
        };
        if (n.op == Op::Fused) {  // inline the inner program
            const FusedProgram inner = parseFusedProgram(stringAttr(n, "program"), int(n.inputs.size()));
            const int base = int(prog.instrs.size());
            for (const auto& ins : inner.instrs) {
                FusedInstr copy{ins.op, {}, ins.params};
                for (const auto& a : ins.args)
                    copy.args.push_back(a.isInput ? operand(n.inputs[std::size_t(a.index)]) : FusedOperand{false, base + a.index});
                prog.instrs.push_back(copy);
            }
        } else {
            FusedInstr ins{n.op, {}, ewParams(n.op, n.attrs)};
            for (const auto& v : n.inputs) ins.args.push_back(operand(v));
            prog.instrs.push_back(ins);
        }
        regOf[m] = int(prog.instrs.size()) - 1;
    }
    return prog;
}

}  // namespace

RuleSet fusionRules() {
    std::vector<Op> roots;
    for (const auto& info : allOps())
        if (fusible(info.op)) roots.push_back(info.op);
    RewriteRule fuse{"fuse-elementwise", roots, [](Rewriter& rw, NodeId id) -> RewriteResult {
        const Graph& g = rw.graph();
        const Node& root = g.node(id);
        if (!floatOnly(g, root) || defersToConsumer(rw, root)) return kNoMatch;
        const FusionGroup grp = growGroup(rw, root);
        auto noteAll = [&](const std::string& groupName) {  // consumers inside the group are named by it
            for (const auto& [edge, why] : grp.rejected)
                rw.addFusionNote(g.node(edge.first).name, groupName.empty() ? g.node(edge.second).name : groupName, why);
        };
        if (grp.nodes.size() < 2) {
            noteAll({});
            return kNoMatch;
        }
        std::vector<ValueRef> inputs;
        const FusedProgram prog = groupProgram(g, grp, id, inputs);
        if (inputs.size() > kMaxGroupInputs) {
            rw.addFusionNote(root.name, root.name, "too many inputs for one group");
            return kNoMatch;
        }
        ValueRef f = rw.builder().op(Op::Fused, inputs, {{"program", prog.text()}}, root.name + "_fused");
        noteAll(g.node(f.node).name);
        return replaceBy(f);
    }};
    return RuleSet({fuse});
}

}  // namespace adj
