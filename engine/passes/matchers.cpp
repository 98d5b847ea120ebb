#include "passes/matchers.h"

namespace adj::match {

RewriteResult replaceIfSameType(const Graph& g, NodeId root, ValueRef keep) {
    if (!sameType(g, keep, {root, 0})) return kNoMatch;
    return replaceBy(keep);
}

const Node* producerOf(const Graph& g, ValueRef v) { return g.contains(v.node) ? &g.node(v.node) : nullptr; }

const Node* producerOf(const Graph& g, ValueRef v, Op op) {
    const Node* p = producerOf(g, v);
    return p && p->op == op ? p : nullptr;
}

const Node* inputProducer(const Graph& g, const Node& n, std::size_t k, Op op) {
    return k < n.inputs.size() ? producerOf(g, n.inputs[k], op) : nullptr;
}

bool isConstant(const Graph& g, ValueRef v) { return producerOf(g, v, Op::Constant) != nullptr; }

bool isParameter(const Graph& g, ValueRef v) { return producerOf(g, v, Op::Parameter) != nullptr; }

bool isSourceValue(const Graph& g, ValueRef v) {
    const Node* p = producerOf(g, v);
    return p && isSource(p->op);
}

bool allInputsConstant(const Graph& g, const Node& n) {
    for (const auto& v : n.inputs)
        if (!isConstant(g, v)) return false;
    return true;
}

bool isConstantFilledWith(const Graph& g, ValueRef v, float x) {
    const Node* c = producerOf(g, v, Op::Constant);
    if (!c || !c->value.defined() || c->value.numel() > kMatchMaxConstantElements) return false;
    for (float e : c->value.toVector())
        if (e != x) return false;
    return true;
}

Tensor knownValue(const Graph& g, ValueRef v) {
    const Node* p = producerOf(g, v);
    if (!p || (p->op != Op::Constant && p->op != Op::Parameter) || !p->value.defined()) return {};
    return p->value.contiguous();
}

bool isKnownNonNegative(const Graph& g, ValueRef v) {
    const Node* p = producerOf(g, v);
    if (!p) return false;
    for (Op op : {Op::Exp, Op::Sigmoid, Op::Softplus, Op::Relu, Op::Abs, Op::Sqrt, Op::HardSigmoid})
        if (p->op == op) return true;
    if (p->op != Op::Constant || !p->value.defined() || p->value.numel() > kMatchMaxConstantElements) return false;
    const Tensor t = p->value.contiguous();
    const float* x = t.data();
    for (std::int64_t i = 0; i < t.numel(); ++i)
        if (!(x[i] >= 0.f)) return false;
    return true;
}

bool hasSingleUse(const Rewriter& rw, NodeId id) { return rw.useCount(id) == 1; }

const Node* soleUser(const Rewriter& rw, NodeId id) {
    const Graph& g = const_cast<Rewriter&>(rw).graph();
    if (rw.isGraphOutput(id) || g.users(id).size() != 1) return nullptr;
    return &g.node(g.users(id)[0].user);
}

std::int64_t intAttr(const Node& n, const std::string& name) { return n.attrs.getInt(n.op, name); }

double floatAttr(const Node& n, const std::string& name) { return n.attrs.getFloat(n.op, name); }

std::string stringAttr(const Node& n, const std::string& name) { return n.attrs.getString(n.op, name); }

std::vector<std::int64_t> transposePerm(const Graph& g, const Node& transpose) {
    if (transpose.attrs.has("perm")) return transpose.attrs.getInts(transpose.op, "perm");
    std::vector<std::int64_t> perm;
    for (auto i = std::int64_t(rankOf(g, transpose.inputs[0])); i-- > 0;) perm.push_back(i);
    return perm;
}

bool isIdentityPerm(const std::vector<std::int64_t>& perm) {
    for (std::size_t i = 0; i < perm.size(); ++i)
        if (perm[i] != std::int64_t(i)) return false;
    return true;
}

}  // namespace adj::match
