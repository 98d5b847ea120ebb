#pragma once
// GraphBuilder: adds nodes to a graph and infers their types on the spot, with one short method
// per op. Autodiff rules, decompositions and rewrites build their subgraphs through it.
#include <string>
#include <vector>

#include "ir/graph.h"

namespace adj {

class GraphBuilder {
public:
    explicit GraphBuilder(Graph& graph, std::string namePrefix = {}) : g_(graph), prefix_(std::move(namePrefix)) {}
    Graph& graph() { return g_; }

    /// Adds `op` on `inputs`, infers its types (throws GraphError on a mismatch) and returns
    /// output port 0. The node is named prefix + stem (made unique).
    ValueRef op(Op op, std::vector<ValueRef> inputs, Attributes attrs = {}, const std::string& stem = {});
    NodeId opNode(Op op, std::vector<ValueRef> inputs, Attributes attrs = {}, const std::string& stem = {});
    void setPrefix(std::string p) { prefix_ = std::move(p); }
    const std::string& prefix() const { return prefix_; }

    ValueRef constant(float value, const std::string& stem = "c");
    ValueRef constant(Tensor value, const std::string& stem = "c");

    const Shape& shape(ValueRef v) const { return g_.type(v).shape; }
    std::int64_t rank(ValueRef v) const { return std::int64_t(shape(v).size()); }

    ValueRef add(ValueRef a, ValueRef b) { return op(Op::Add, {a, b}); }
    ValueRef sub(ValueRef a, ValueRef b) { return op(Op::Sub, {a, b}); }
    ValueRef mul(ValueRef a, ValueRef b) { return op(Op::Mul, {a, b}); }
    ValueRef div(ValueRef a, ValueRef b) { return op(Op::Div, {a, b}); }
    ValueRef neg(ValueRef a) { return op(Op::Neg, {a}); }
    ValueRef unary(Op o, ValueRef a) { return op(o, {a}); }
    ValueRef scale(ValueRef a, float s) { return s == 1.f ? a : mul(a, constant(s)); }
    ValueRef matmul(ValueRef a, ValueRef b) { return op(Op::MatMul, {a, b}); }
    ValueRef where(ValueRef c, ValueRef a, ValueRef b) { return op(Op::Where, {c, a, b}); }
    ValueRef sum(ValueRef a, std::vector<std::int64_t> axes, bool keepdims);
    ValueRef mean(ValueRef a, std::vector<std::int64_t> axes, bool keepdims);
    ValueRef reshape(ValueRef a, const Shape& shape);
    ValueRef transpose(ValueRef a, std::vector<std::int64_t> perm);
    /// Swaps the last two axes.
    ValueRef transposeLast2(ValueRef a);
    ValueRef expand(ValueRef a, const Shape& shape);
    /// Sums `a` down to `shape` (the reverse of NumPy broadcasting); `a` itself when equal.
    ValueRef sumTo(ValueRef a, const Shape& shape);
    /// Broadcasts `a` to `shape` when it differs; `a` itself when equal.
    ValueRef expandTo(ValueRef a, const Shape& shape);
    ValueRef zerosLike(const Shape& shape);

private:
    Graph& g_;
    std::string prefix_;
};

}  // namespace adj
