// Elementwise ops on integer and bool values (ir/element_types.h): neg, abs, sign, add, sub, mul,
// div, maximum and minimum computed in i64 or i32 (two's-complement wrap-around, as NumPy and
// ONNX Runtime; division toward zero, by zero an error naming the node), comparisons of any one
// type giving a float 0/1 mask, and where with a bool condition or values of an integer type.
// NumPy broadcasting through stride-0 views, walked with kernel_util.h's row layouts.
#include <cstdint>
#include <type_traits>

#include "runtime/cpu/kernel_util.h"

namespace adj::cpu {

namespace {

/// Calls f(output index, offset of each input) for every output element: the inputs broadcast
/// to the output's shape with stride 0, walked row by row (kernel_util.h's RowLayout), in
/// parallel when large. Operand 0 of the layout is the (contiguous) output.
template <std::size_t N, class F>
void forEachBroadcast(const KernelCall& call, const Tensor& out, F&& f) {
    std::array<Tensor, N> views;
    std::array<const Strides*, N + 1> strides{&out.strides()};
    for (std::size_t k = 0; k < N; ++k) {
        views[k] = call.inputs[k].expand(out.shape());
        strides[k + 1] = &views[k].strides();
    }
    const auto L = detail::makeRowLayout<N + 1>(out.shape(), strides);
    detail::parallelRows(L, 1, [&](const std::array<std::int64_t, N + 1>& off, std::int64_t n, const std::array<std::int64_t, N + 1>& st) {
        for (std::int64_t j = 0; j < n; ++j) {
            std::array<std::int64_t, N> at;
            for (std::size_t k = 0; k < N; ++k) at[k] = off[k + 1] + j * st[k + 1];
            f(off[0] + j * st[0], at);
        }
    });
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
    Tensor& out = newOutput(call, 0, call.outTypes.at(0).shape);
    T* dst = out.ptr<T>();
    const T* a = call.inputs[0].ptr<T>();
    if (call.inputs.size() == 1) {
        forEachBroadcast<1>(call, out, [&](std::int64_t i, const std::array<std::int64_t, 1>& o) { dst[i] = integerUnary<T>(n.op, a[o[0]]); });
    } else {
        const T* b = call.inputs[1].ptr<T>();
        forEachBroadcast<2>(call, out, [&](std::int64_t i, const std::array<std::int64_t, 2>& o) { dst[i] = integerBinary<T>(n, a[o[0]], b[o[1]]); });
    }
}

template <class T>
void compare(KernelCall& call) {
    Tensor& out = newOutput(call, 0, call.outTypes.at(0).shape);
    float* dst = out.data();
    const T* a = call.inputs[0].ptr<T>();
    const T* b = call.inputs[1].ptr<T>();
    const bool greater = call.node.op == Op::Greater;
    forEachBroadcast<2>(call, out, [&](std::int64_t i, const std::array<std::int64_t, 2>& o) {
        dst[i] = (greater ? a[o[0]] > b[o[1]] : a[o[0]] == b[o[1]]) ? 1.f : 0.f;
    });
}

template <class C, class T>
void select(KernelCall& call) {
    Tensor& out = newOutput(call, 0, call.outTypes.at(0).shape);
    T* dst = out.ptr<T>();
    const C* c = call.inputs[0].ptr<C>();
    const T* x = call.inputs[1].ptr<T>();
    const T* y = call.inputs[2].ptr<T>();
    forEachBroadcast<3>(call, out, [&](std::int64_t i, const std::array<std::int64_t, 3>& o) { dst[i] = c[o[0]] != C(0) ? x[o[1]] : y[o[2]]; });
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
