// Elementwise ops on integer and bool values (ir/element_types.h): neg, abs, sign, add, sub, mul,
// div, maximum and minimum computed in i64 or i32 (two's-complement wrap-around, as NumPy and
// ONNX Runtime; division toward zero, by zero an error naming the node), comparisons of any one
// type giving a float 0/1 mask, and where with a bool condition or values of an integer type.
// NumPy broadcasting through stride-0 views; a plain strided loop, since integer values are shapes,
// ids and masks, not the bulk of a model's work.
#include <cstdint>
#include <type_traits>

#include "runtime/cpu/kernel_util.h"

namespace adj::cpu {

namespace {

/// Each input seen with the output's shape (broadcast with stride 0).
std::vector<Tensor> broadcastInputs(const KernelCall& call, const Shape& shape) {
    std::vector<Tensor> views;
    for (const Tensor& t : call.inputs) views.push_back(t.expand(shape));
    return views;
}

/// Calls f(outIndex, offsets of each input) over the output's elements in row-major order.
template <std::size_t N, class F>
void forEachBroadcast(const Shape& shape, const std::vector<Tensor>& in, F&& f) {
    const std::int64_t total = numel(shape);
    if (total == 0) return;
    const std::size_t r = shape.size();
    std::array<std::int64_t, N> off{};
    std::vector<std::int64_t> idx(r, 0);
    for (std::int64_t i = 0; i < total; ++i) {
        f(i, off);
        for (std::size_t d = r; d-- > 0;) {
            for (std::size_t k = 0; k < N; ++k) off[k] += in[k].strides()[d];
            if (++idx[d] < shape[d]) break;
            for (std::size_t k = 0; k < N; ++k) off[k] -= in[k].strides()[d] * shape[d];
            idx[d] = 0;
        }
    }
}

/// Wrap-around arithmetic without undefined behaviour: through the unsigned type.
template <class T>
T wrap(std::make_unsigned_t<T> v) { return T(v); }

template <class T>
T integerUnary(Op op, T a) {
    using U = std::make_unsigned_t<T>;
    switch (op) {
        case Op::Neg: return wrap<T>(U(0) - U(a));
        case Op::Abs: return a < 0 ? wrap<T>(U(0) - U(a)) : a;
        case Op::Sign: return T(a > 0) - T(a < 0);
        default: throw std::logic_error("not an integer unary op");
    }
}

template <class T>
T integerBinary(const Node& n, T a, T b) {
    using U = std::make_unsigned_t<T>;
    switch (n.op) {
        case Op::Add: return wrap<T>(U(a) + U(b));
        case Op::Sub: return wrap<T>(U(a) - U(b));
        case Op::Mul: return wrap<T>(U(a) * U(b));
        case Op::Div:
            if (b == 0) detail::fail(n, "integer division by zero");
            if (a == std::numeric_limits<T>::min() && b == T(-1)) return a;  // (wraps, as two's complement does)
            return T(a / b);  // toward zero
        case Op::Maximum: return a > b ? a : b;
        case Op::Minimum: return a < b ? a : b;
        default: throw std::logic_error("not an integer binary op");
    }
}

template <class T>
void arithmetic(KernelCall& call) {
    const Node& n = call.node;
    const Shape& shape = call.outTypes.at(0).shape;
    const std::vector<Tensor> in = broadcastInputs(call, shape);
    Tensor& out = newOutput(call, 0, shape);
    T* dst = out.ptr<T>();
    if (in.size() == 1) {
        const T* a = in[0].ptr<T>();
        forEachBroadcast<1>(shape, in, [&](std::int64_t i, const std::array<std::int64_t, 1>& o) { dst[i] = integerUnary<T>(n.op, a[o[0]]); });
    } else {
        const T* a = in[0].ptr<T>();
        const T* b = in[1].ptr<T>();
        forEachBroadcast<2>(shape, in, [&](std::int64_t i, const std::array<std::int64_t, 2>& o) { dst[i] = integerBinary<T>(n, a[o[0]], b[o[1]]); });
    }
}

template <class T>
void compare(KernelCall& call) {
    const Shape& shape = call.outTypes.at(0).shape;
    const std::vector<Tensor> in = broadcastInputs(call, shape);
    Tensor& out = newOutput(call, 0, shape);
    float* dst = out.data();
    const T* a = in[0].ptr<T>();
    const T* b = in[1].ptr<T>();
    const bool greater = call.node.op == Op::Greater;
    forEachBroadcast<2>(shape, in, [&](std::int64_t i, const std::array<std::int64_t, 2>& o) {
        dst[i] = (greater ? a[o[0]] > b[o[1]] : a[o[0]] == b[o[1]]) ? 1.f : 0.f;
    });
}

template <class C, class T>
void select(KernelCall& call) {
    const Shape& shape = call.outTypes.at(0).shape;
    const std::vector<Tensor> in = broadcastInputs(call, shape);
    Tensor& out = newOutput(call, 0, shape);
    T* dst = out.ptr<T>();
    const C* c = in[0].ptr<C>();
    const T* x = in[1].ptr<T>();
    const T* y = in[2].ptr<T>();
    forEachBroadcast<3>(shape, in, [&](std::int64_t i, const std::array<std::int64_t, 3>& o) { dst[i] = c[o[0]] != C(0) ? x[o[1]] : y[o[2]]; });
}

template <class C>
void selectOf(KernelCall& call) {
    switch (call.inputs.at(1).dtype()) {
        case DType::F32: return select<C, float>(call);
        case DType::I64: return select<C, std::int64_t>(call);
        case DType::I32: return select<C, std::int32_t>(call);
        default: detail::fail(call.node, "where of " + std::string(dtypeName(call.inputs[1].dtype())) + " values");
    }
}

}  // namespace

void integerElementwiseKernel(KernelCall& call) {
    const Node& n = call.node;
    const DType type = call.inputs.at(0).dtype();
    if (n.op == Op::Where) return type == DType::Bool ? selectOf<std::uint8_t>(call) : selectOf<float>(call);
    if (n.op == Op::Greater || n.op == Op::Equal) {
        switch (type) {
            case DType::F32: return compare<float>(call);
            case DType::I64: return compare<std::int64_t>(call);
            case DType::I32: return compare<std::int32_t>(call);
            case DType::Bool: return compare<std::uint8_t>(call);
            default: break;
        }
    } else if (type == DType::I64) {
        return arithmetic<std::int64_t>(call);
    } else if (type == DType::I32) {
        return arithmetic<std::int32_t>(call);
    }
    detail::fail(n, std::string(opName(n.op)) + " of " + std::string(dtypeName(type)) + " values");
}

}  // namespace adj::cpu
