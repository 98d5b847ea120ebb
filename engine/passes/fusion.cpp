#include <algorithm>
#include <map>
#include <set>

#include "ir/fused_program.h"
#include "passes/passes.h"

namespace adj {

namespace {

using Result = std::optional<std::vector<ValueRef>>;

constexpr std::size_t kMaxGroupInstrs = 64;
constexpr std::size_t kMaxGroupInputs = 16;

bool fusible(Op op) { return isElementwise(op) && !isSource(op); }

/// Why producer `p` cannot join the group rooted at a node with output shape `shape` (empty: it can).
std::string rejectReason(Rewriter& rw, const Node& p, const Shape& shape, const std::set<NodeId>& group) {
    const Graph& g = rw.graph();
    if (!fusible(p.op)) return "not elementwise";
    if (p.outputs.empty() || p.outputs[0].shape != shape) return "broadcast changes shape";
    if (rw.isGraphOutput(p.id)) return "producer is a graph output";
    for (const auto& u : g.users(p.id))
        if (!group.count(u.user)) return "producer has users outside the group";
    return {};
}

}  // namespace

RuleSet fusionRules() {
    std::vector<Op> roots;
    for (const auto& info : allOps())
        if (fusible(info.op)) roots.push_back(info.op);
    RewriteRule fuse{"fuse-elementwise", roots, [](Rewriter& rw, NodeId id) -> Result {
        Graph& g = rw.graph();
        const Node& root = g.node(id);
        const Shape shape = root.outputs[0].shape;
        // a root with one elementwise consumer of the same shape lets that consumer root the group
        if (!rw.isGraphOutput(id) && g.users(id).size() == 1) {
            const Node& c = g.node(g.users(id)[0].user);
            if (fusible(c.op) && !c.outputs.empty() && c.outputs[0].shape == shape) {
                bool sameUser = true;
                for (const auto& u : g.users(id)) sameUser = sameUser && u.user == c.id;
                if (sameUser) return std::nullopt;
            }
        }
        std::set<NodeId> group{id};
        std::vector<NodeId> members{id};
        std::size_t instrs = root.op == Op::Fused ? parseFusedProgram(root.attrs.getString(root.op, "program")).instrs.size() : 1;
        std::map<std::pair<NodeId, NodeId>, std::string> rejected;  // (producer, consumer) -> reason
        for (bool grew = true; grew;) {
            grew = false;
            rejected.clear();
            for (std::size_t mi = 0; mi < members.size(); ++mi) {  // grows while we walk it
                const NodeId m = members[mi];
                for (const auto& v : g.node(m).inputs) {
                    if (group.count(v.node) || !g.contains(v.node)) continue;
                    const Node& p = g.node(v.node);
                    if (isSource(p.op)) continue;
                    std::string why = rejectReason(rw, p, shape, group);
                    const std::size_t pi = p.op == Op::Fused ? parseFusedProgram(p.attrs.getString(p.op, "program")).instrs.size() : 1;
                    if (why.empty() && instrs + pi > kMaxGroupInstrs) why = "group is full";
                    if (!why.empty()) {
                        rejected[{p.id, m}] = why;
                        continue;
                    }
                    group.insert(p.id);
                    members.push_back(p.id);
                    instrs += pi;
                    grew = true;
                }
            }
        }
        auto noteAll = [&](const std::string& groupName) {  // consumers inside the group are named by it
            for (const auto& [edge, why] : rejected)
                rw.addFusionNote(g.node(edge.first).name, groupName.empty() ? g.node(edge.second).name : groupName, why);
        };
        if (group.size() < 2) {
            noteAll({});
            return std::nullopt;
        }
        // members in dependency order, external inputs in order of first use
        std::vector<NodeId> order;
        std::set<NodeId> placed;
        std::vector<std::pair<NodeId, std::size_t>> stack{{id, 0}};
        while (!stack.empty()) {
            auto& [n, i] = stack.back();
            const auto& ins = g.node(n).inputs;
            if (i < ins.size()) {
                const NodeId in = ins[i++].node;
                if (group.count(in) && !placed.count(in)) stack.push_back({in, 0});
                continue;
            }
            if (placed.insert(n).second) order.push_back(n);
            stack.pop_back();
        }
        std::vector<ValueRef> inputs;
        auto inputIndex = [&](ValueRef v) {
            auto it = std::find(inputs.begin(), inputs.end(), v);
            if (it != inputs.end()) return int(it - inputs.begin());
            inputs.push_back(v);
            return int(inputs.size()) - 1;
        };
        FusedProgram prog;
        std::map<NodeId, int> regOf;
        for (NodeId m : order) {
            const Node& n = g.node(m);
            auto operand = [&](ValueRef v) {
                FusedOperand a;
                if (group.count(v.node)) {
                    a.isInput = false;
                    a.index = regOf.at(v.node);
                } else {
                    a.index = inputIndex(v);
                }
                return a;
            };
            if (n.op == Op::Fused) {  // inline the inner program
                const FusedProgram inner = parseFusedProgram(n.attrs.getString(n.op, "program"), int(n.inputs.size()));
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
        if (inputs.size() > kMaxGroupInputs) {
            rw.addFusionNote(root.name, root.name, "too many inputs for one group");
            return std::nullopt;
        }
        ValueRef f = rw.builder().op(Op::Fused, inputs, {{"program", prog.text()}}, root.name + "_fused");
        noteAll(g.node(f.node).name);
        return std::vector<ValueRef>{f};
    }};
    return RuleSet({fuse});
}

}  // namespace adj
