#include <algorithm>
#include <cstring>

#include "passes/matchers.h"
#include "passes/passes.h"

namespace adj {

using namespace match;

namespace {

// The Q/K/V merge: linear layers that read the same x, each by a weight of its own, become one
// layer with the weights side by side and a split of its output. Linear layers come in the forms
// that graphs are written in:
//   matmul(x, W) [+ b]              (ours, and PyTorch's Linear on inputs of rank 3 or more:
//                                    MatMul + Add with W stored transposed)
//   gemm(x, W, [c]) with transB 0/1 (PyTorch's Linear on 2-D inputs: Gemm(transB=1) with its bias)
// Every layer of one merge has the same form. Weights that are constants or parameters are
// concatenated once, here (a new parameter when any was trainable, else a constant); graph inputs
// as weights are concatenated by a concat node.

/// One linear layer reading x.
struct Linear {
    NodeId node = kNoNode;      // the matmul or gemm
    NodeId replaced = kNoNode;  // the node whose output the merge's split replaces (add, or the node)
    ValueRef weight, bias;      // bias: none when the layer has none
    std::int64_t width = 0;     // the layer's output features
};

/// The form that layers of one merge must share.
struct Form {
    Op op = Op::MatMul;
    bool transB = false;
    bool operator==(const Form&) const = default;
};

bool isWeight(const Graph& g, ValueRef w) { return isSourceValue(g, w) && rankOf(g, w) == 2; }

/// A 1-D bias of `width` features, or a 2-D one of one row.
bool isBiasOfWidth(const Graph& g, ValueRef b, std::int64_t width) {
    if (!isSourceValue(g, b)) return false;
    const Shape& s = shapeOf(g, b);
    return s == Shape{width} || s == Shape{1, width};
}

/// The add(matmul, b) that is the matmul's only use, with b a source of the matmul's width.
const Node* biasAddOf(const Rewriter& rw, NodeId mm, std::int64_t width, ValueRef& bias) {
    const Graph& g = rw.graph();
    const Node* add = soleUser(rw, mm);
    if (!add || add->op != Op::Add) return nullptr;
    const ValueRef other = add->inputs[add->inputs[0] == ValueRef{mm, 0} ? 1 : 0];
    if (!isBiasOfWidth(g, other, width) || add->outputs[0].shape != g.node(mm).outputs[0].shape) return nullptr;
    bias = other;
    return add;
}

/// The layer that node `n` computes on x, if it is one of the forms above.
std::optional<std::pair<Form, Linear>> linearOn(const Rewriter& rw, const Node& n, ValueRef x) {
    const Graph& g = rw.graph();
    if (n.inputs.size() < 2 || n.inputs[0] != x || n.inputs[1] == x || !isWeight(g, n.inputs[1])) return std::nullopt;
    Linear l;
    l.node = l.replaced = n.id;
    l.weight = n.inputs[1];
    const Shape& w = shapeOf(g, l.weight);
    if (n.op == Op::MatMul) {
        l.width = w[1];
        if (const Node* add = biasAddOf(rw, n.id, l.width, l.bias)) l.replaced = add->id;
        return std::pair{Form{Op::MatMul, false}, l};
    }
    if (n.op != Op::Gemm || intAttr(n, "transA") != 0 || floatAttr(n, "alpha") != 1.0) return std::nullopt;
    const bool transB = intAttr(n, "transB") != 0;
    l.width = transB ? w[0] : w[1];
    if (n.inputs.size() > 2) {
        if (floatAttr(n, "beta") != 1.0 || !isBiasOfWidth(g, n.inputs[2], l.width)) return std::nullopt;
        l.bias = n.inputs[2];
    }
    return std::pair{Form{Op::Gemm, transB}, l};
}

/// The layers of one form on x, in id order (each once); empty when fewer than two.
std::pair<Form, std::vector<Linear>> parallelLinears(const Rewriter& rw, ValueRef x) {
    const Graph& g = rw.graph();
    std::vector<NodeId> candidates;
    for (const auto& u : g.users(x.node))
        if (u.index == 0 && std::find(candidates.begin(), candidates.end(), u.user) == candidates.end()) candidates.push_back(u.user);
    std::sort(candidates.begin(), candidates.end());
    // the most common form among the layers on x (ties: the first seen)
    std::vector<std::pair<Form, std::vector<Linear>>> byForm;
    for (NodeId id : candidates) {
        auto layer = linearOn(rw, g.node(id), x);
        if (!layer) continue;
        auto it = std::find_if(byForm.begin(), byForm.end(), [&](const auto& f) { return f.first == layer->first; });
        if (it == byForm.end()) byForm.push_back({layer->first, {layer->second}});
        else it->second.push_back(layer->second);
    }
    std::pair<Form, std::vector<Linear>> best;
    for (auto& f : byForm)
        if (f.second.size() > best.second.size()) best = std::move(f);
    if (best.second.size() < 2) best.second.clear();
    return best;
}

/// Known values (constants, parameters) side by side along `axis` of their common rank (1 or 2).
Tensor concatenated(const std::vector<Tensor>& parts, std::size_t axis) {
    Shape shape = parts.front().shape();
    shape[axis] = 0;
    for (const Tensor& t : parts) shape[axis] += t.shape()[axis];
    Tensor out = Tensor::empty(shape);
    const std::int64_t rows = axis == 0 || shape.size() == 1 ? 1 : shape[0];  // outer loop count
    const std::int64_t rowWidth = shape.size() == 1 || axis == 0 ? out.numel() : shape[1];
    float* dst = out.data();
    for (std::int64_t r = 0; r < rows; ++r) {
        std::int64_t at = r * rowWidth;
        for (const Tensor& t : parts) {
            const std::int64_t n = rows == 1 ? t.numel() : t.shape()[1];
            std::memcpy(dst + at, t.data() + r * n, std::size_t(n) * sizeof(float));
            at += n;
        }
    }
    return out;
}

/// The values side by side along `axis`: folded once when every one is a constant or parameter
/// (a parameter when any is), else a concat node.
ValueRef mergedSource(Rewriter& rw, const std::vector<ValueRef>& values, std::int64_t axis, const std::string& name) {
    Graph& g = rw.graph();
    std::vector<Tensor> parts;
    bool trainable = false;
    for (ValueRef v : values) {
        Tensor t = knownValue(g, v);
        if (!t.defined() || t.dtype() != DType::F32) return rw.builder().op(Op::Concat, values, {{"axis", axis}}, name);
        trainable = trainable || isParameter(g, v);
        parts.push_back(std::move(t));
    }
    Tensor merged = concatenated(parts, std::size_t(axis < 0 ? axis + std::int64_t(parts[0].shape().size()) : axis));
    if (trainable) return {g.addParameter(g.freshName(name), std::move(merged)), 0};
    return rw.builder().constant(std::move(merged), name);
}

}  // namespace

RuleSet parallelMatmulRules() {
    RewriteRule merge{"merge-parallel-matmul", {}, [](Rewriter& rw, NodeId root) -> RewriteResult {
        const Graph& g = rw.graph();
        const Node& xn = g.node(root);
        if (xn.outputs.empty() || xn.outputs[0].shape.size() < 2) return kNoMatch;
        const ValueRef x{root, 0};
        auto [form, layers] = parallelLinears(rw, x);
        if (layers.empty()) return kNoMatch;
        // biases merge when every layer has one of the same rank (else each layer keeps its own
        // add: merging only the matmuls is still one product instead of several)
        bool withBias = true;
        for (const Linear& l : layers)
            withBias = withBias && l.bias.node != kNoNode && rankOf(g, l.bias) == rankOf(g, layers[0].bias);
        if (form.op == Op::Gemm && !withBias)
            for (const Linear& l : layers)
                if (l.bias.node != kNoNode) return kNoMatch;  // a gemm's bias cannot stay outside
        std::vector<ValueRef> weights, biases;
        std::vector<std::int64_t> sizes;
        for (const Linear& l : layers) {
            weights.push_back(l.weight);
            biases.push_back(l.bias);
            sizes.push_back(l.width);
        }
        const std::string stem = xn.name + "_merged";
        GraphBuilder& b = rw.builder();
        const ValueRef w = mergedSource(rw, weights, form.transB ? 0 : 1, stem + "_w");
        const ValueRef bias = withBias ? mergedSource(rw, biases, -1, stem + "_b") : ValueRef{};
        ValueRef y;
        if (form.op == Op::Gemm) {
            std::vector<ValueRef> in{x, w};
            if (withBias) in.push_back(bias);
            y = b.op(Op::Gemm, in, {{"transB", std::int64_t(form.transB)}}, stem);
        } else {
            y = b.op(Op::MatMul, {x, w}, {}, stem);
            if (withBias) y = b.op(Op::Add, {y, bias}, {}, stem + "_add");
        }
        const auto rank = std::int64_t(b.shape(y).size());
        const NodeId split = b.opNode(Op::Split, {y}, {{"axis", rank - 1}, {"sizes", sizes}}, stem + "_split");
        for (std::size_t i = 0; i < layers.size(); ++i) {
            const Linear& l = layers[i];
            // without merged biases a matmul's own add stays, now reading the split
            const NodeId replaced = form.op == Op::MatMul && !withBias ? l.node : l.replaced;
            rw.alsoReplace({replaced, 0}, {split, int(i)});
        }
        return replaceBy(std::vector<ValueRef>{});
    }};
    return RuleSet({merge});
}

}  // namespace adj
