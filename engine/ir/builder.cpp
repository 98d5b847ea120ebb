#include "ir/builder.h"

#include "ir/shape_inference.h"

namespace adj {

NodeId GraphBuilder::opNode(Op o, std::vector<ValueRef> inputs, Attributes attrs, const std::string& stem) {
    std::vector<ValueType> ins;
    ins.reserve(inputs.size());
    for (const auto& v : inputs) ins.push_back(g_.type(v));
    NodeId id = g_.addNode(o, std::move(inputs), std::move(attrs), g_.freshName(prefix_ + (stem.empty() ? std::string(opName(o)) : stem)));
    Node& n = g_.node(id);
    try {
        n.outputs = inferNodeTypes(n, ins);
    } catch (...) {
        g_.removeNodeForce(id);
        throw;
    }
    return id;
}

ValueRef GraphBuilder::op(Op o, std::vector<ValueRef> inputs, Attributes attrs, const std::string& stem) {
    return ValueRef{opNode(o, std::move(inputs), std::move(attrs), stem), 0};
}

ValueRef GraphBuilder::constant(float value, const std::string& stem) { return constant(Tensor::scalar(value), stem); }

ValueRef GraphBuilder::constant(Tensor value, const std::string& stem) {
    NodeId id = g_.addConstant(std::move(value), g_.freshName(prefix_ + stem));
    return ValueRef{id, 0};
}

ValueRef GraphBuilder::sum(ValueRef a, std::vector<std::int64_t> axes, bool keepdims) {
    return op(Op::Sum, {a}, {{"axes", std::move(axes)}, {"keepdims", std::int64_t(keepdims)}});
}

ValueRef GraphBuilder::mean(ValueRef a, std::vector<std::int64_t> axes, bool keepdims) {
    return op(Op::Mean, {a}, {{"axes", std::move(axes)}, {"keepdims", std::int64_t(keepdims)}});
}

ValueRef GraphBuilder::reshape(ValueRef a, const Shape& s) {
    if (shape(a) == s) return a;
    return op(Op::Reshape, {a}, {{"shape", std::vector<std::int64_t>(s.begin(), s.end())}});
}

ValueRef GraphBuilder::transpose(ValueRef a, std::vector<std::int64_t> perm) {
    bool identity = true;
    for (std::size_t i = 0; i < perm.size(); ++i) identity = identity && perm[i] == std::int64_t(i);
    if (identity) return a;
    return op(Op::Transpose, {a}, {{"perm", std::move(perm)}});
}

ValueRef GraphBuilder::transposeLast2(ValueRef a) {
    const auto r = rank(a);
    std::vector<std::int64_t> perm(static_cast<std::size_t>(r));
    for (std::int64_t i = 0; i < r; ++i) perm[std::size_t(i)] = i;
    std::swap(perm[std::size_t(r - 1)], perm[std::size_t(r - 2)]);
    return transpose(a, perm);
}

ValueRef GraphBuilder::expand(ValueRef a, const Shape& s) {
    return op(Op::Expand, {a}, {{"shape", std::vector<std::int64_t>(s.begin(), s.end())}});
}

ValueRef GraphBuilder::expandTo(ValueRef a, const Shape& s) { return shape(a) == s ? a : expand(a, s); }

ValueRef GraphBuilder::sumTo(ValueRef a, const Shape& target) {
    const Shape& s = shape(a);
    if (s == target) return a;
    const std::size_t lead = s.size() - target.size();
    std::vector<std::int64_t> axes;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (i < lead || (target[i - lead] == 1 && s[i] != 1)) axes.push_back(std::int64_t(i));
    ValueRef r = axes.empty() ? a : sum(a, axes, true);
    return reshape(r, target);
}

ValueRef GraphBuilder::zerosLike(const Shape& s) { return constant(Tensor::zeros(s), "zeros"); }

}  // namespace adj
