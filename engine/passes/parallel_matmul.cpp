#include <algorithm>

#include "passes/passes.h"

namespace adj {

namespace {

using Result = std::optional<std::vector<ValueRef>>;

bool isSourceValue(const Graph& g, ValueRef v) { return g.contains(v.node) && isSource(g.node(v.node).op); }

}  // namespace

RuleSet parallelMatmulRules() {
    RewriteRule merge{"merge-parallel-matmul", {}, [](Rewriter& rw, NodeId id) -> Result {
        Graph& g = rw.graph();
        const Node& xn = g.node(id);
        if (xn.outputs.empty()) return std::nullopt;
        const ValueRef x{id, 0};
        const Shape xs = xn.outputs[0].shape;
        if (xs.size() < 2) return std::nullopt;
        std::vector<NodeId> mms;
        for (const auto& u : g.users(id)) {
            const Node& m = g.node(u.user);
            if (m.op != Op::MatMul || u.index != 0 || m.inputs[0] != x || m.inputs[1] == x) continue;
            if (!isSourceValue(g, m.inputs[1]) || g.type(m.inputs[1]).shape.size() != 2) continue;
            if (std::find(mms.begin(), mms.end(), u.user) == mms.end()) mms.push_back(u.user);
        }
        if (mms.size() < 2) return std::nullopt;
        std::sort(mms.begin(), mms.end());
        // biases: each matmul feeds only add(matmul, b) with a 1-D source b of its width
        std::vector<NodeId> adds;
        std::vector<ValueRef> biases;
        for (NodeId m : mms) {
            if (rw.useCount(m) != 1 || g.users(m).size() != 1) break;
            const Node& a = g.node(g.users(m)[0].user);
            if (a.op != Op::Add) break;
            const ValueRef other = a.inputs[a.inputs[0] == ValueRef{m, 0} ? 1 : 0];
            const std::int64_t width = g.type(g.node(m).inputs[1]).shape[1];
            if (!isSourceValue(g, other) || g.type(other).shape != Shape{width} || a.outputs[0].shape != g.node(m).outputs[0].shape) break;
            adds.push_back(a.id);
            biases.push_back(other);
        }
        const bool withBias = adds.size() == mms.size();
        GraphBuilder& b = rw.builder();
        std::vector<ValueRef> ws;
        std::vector<std::int64_t> sizes;
        for (NodeId m : mms) {
            ws.push_back(g.node(m).inputs[1]);
            sizes.push_back(g.type(g.node(m).inputs[1]).shape[1]);
        }
        const std::string stem = xn.name + "_merged";
        ValueRef y = b.op(Op::MatMul, {x, b.op(Op::Concat, ws, {{"axis", std::int64_t(-1)}}, stem + "_w")}, {}, stem);
        if (withBias) y = b.op(Op::Add, {y, b.op(Op::Concat, biases, {{"axis", std::int64_t(0)}}, stem + "_b")}, {}, stem + "_add");
        const auto rank = std::int64_t(b.shape(y).size());
        const NodeId split = b.opNode(Op::Split, {y}, {{"axis", rank - 1}, {"sizes", sizes}}, stem + "_split");
        for (std::size_t i = 0; i < mms.size(); ++i) rw.alsoReplace({withBias ? adds[i] : mms[i], 0}, {split, int(i)});
        return std::vector<ValueRef>{};
    }};
    return RuleSet({merge});
}

}  // namespace adj
