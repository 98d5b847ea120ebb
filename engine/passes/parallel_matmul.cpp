#include <algorithm>

#include "passes/matchers.h"
#include "passes/passes.h"

namespace adj {

using namespace match;

namespace {

/// matmul(x, W) for the given x with W a 2-D source, x on the left only.
bool isMatmulOfXBySourceWeight(const Graph& g, const Node& m, ValueRef x) {
    if (m.op != Op::MatMul || m.inputs[0] != x || m.inputs[1] == x) return false;
    return isSourceValue(g, m.inputs[1]) && rankOf(g, m.inputs[1]) == 2;
}

/// The matmuls on x, in id order (each once).
std::vector<NodeId> parallelMatmuls(const Graph& g, ValueRef x) {
    std::vector<NodeId> mms;
    for (const auto& u : g.users(x.node)) {
        if (u.index != 0 || !isMatmulOfXBySourceWeight(g, g.node(u.user), x)) continue;
        if (std::find(mms.begin(), mms.end(), u.user) == mms.end()) mms.push_back(u.user);
    }
    std::sort(mms.begin(), mms.end());
    return mms;
}

/// The add(matmul, b) that is the matmul's only use, with b a 1-D source of the matmul's width;
/// sets `bias` to b.
const Node* biasAddOf(const Rewriter& rw, NodeId mm, ValueRef& bias) {
    const Graph& g = rw.graph();
    const Node* add = soleUser(rw, mm);
    if (!add || add->op != Op::Add) return nullptr;
    const ValueRef other = add->inputs[add->inputs[0] == ValueRef{mm, 0} ? 1 : 0];
    const std::int64_t width = shapeOf(g, g.node(mm).inputs[1])[1];
    if (!isSourceValue(g, other) || shapeOf(g, other) != Shape{width} || add->outputs[0].shape != g.node(mm).outputs[0].shape) return nullptr;
    bias = other;
    return add;
}

}  // namespace

RuleSet parallelMatmulRules() {
    RewriteRule merge{"merge-parallel-matmul", {}, [](Rewriter& rw, NodeId root) -> RewriteResult {
        const Graph& g = rw.graph();
        const Node& xn = g.node(root);
        if (xn.outputs.empty() || xn.outputs[0].shape.size() < 2) return kNoMatch;
        const ValueRef x{root, 0};
        const std::vector<NodeId> mms = parallelMatmuls(g, x);
        if (mms.size() < 2) return kNoMatch;
        // the biases, when every matmul feeds only its own add(matmul, b)
        std::vector<NodeId> adds;
        std::vector<ValueRef> biases;
        for (NodeId m : mms) {
            ValueRef bias;
            const Node* add = biasAddOf(rw, m, bias);
            if (!add) break;
            adds.push_back(add->id);
            biases.push_back(bias);
        }
        const bool withBias = adds.size() == mms.size();

        // split(matmul(x, concat W) [+ concat b]), each piece replacing one matmul (or its add)
        GraphBuilder& b = rw.builder();
        std::vector<ValueRef> ws;
        std::vector<std::int64_t> sizes;
        for (NodeId m : mms) {
            ws.push_back(g.node(m).inputs[1]);
            sizes.push_back(shapeOf(g, g.node(m).inputs[1])[1]);
        }
        const std::string stem = xn.name + "_merged";
        ValueRef y = b.op(Op::MatMul, {x, b.op(Op::Concat, ws, {{"axis", std::int64_t(-1)}}, stem + "_w")}, {}, stem);
        if (withBias) y = b.op(Op::Add, {y, b.op(Op::Concat, biases, {{"axis", std::int64_t(0)}}, stem + "_b")}, {}, stem + "_add");
        const auto rank = std::int64_t(b.shape(y).size());
        const NodeId split = b.opNode(Op::Split, {y}, {{"axis", rank - 1}, {"sizes", sizes}}, stem + "_split");
        for (std::size_t i = 0; i < mms.size(); ++i) rw.alsoReplace({withBias ? adds[i] : mms[i], 0}, {split, int(i)});
        return replaceBy(std::vector<ValueRef>{});
    }};
    return RuleSet({merge});
}

}  // namespace adj
