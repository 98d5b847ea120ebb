// Elementwise ops on integer and bool values (ir/element_types.h): neg, abs, sign, add, sub, mul,
// div, maximum and minimum computed in the integer type's own width (two's-complement
// wrap-around, as NumPy and ONNX Runtime; division toward zero, by zero an error naming the node),
// comparisons of any one type giving a float 0/1 mask, and where with a bool condition or values
// of any type. NumPy broadcasting through stride-0 views (kernel_util.h's forEachBroadcast).
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ir/element_types.h"
#include "runtime/cpu/kernel_util.h"
#include "tensor/dtype_visit.h"

namespace adj::cpu {

namespace {

using detail::forEachBroadcast;

/// Wrap-around arithmetic without undefined behaviour: computed in uint64 (no promotion to a
/// signed int can overflow), then narrowed, which C++20 defines as modular.
template <class T>
T wrap(std::uint64_t v) { return T(v); }

template <class T>
T integerUnary(Op op, T a) {
    switch (op) {
        case Op::Neg: return wrap<T>(std::uint64_t(0) - std::uint64_t(a));
        case Op::Abs:
            if constexpr (std::is_signed_v<T>) return a < 0 ? wrap<T>(std::uint64_t(0) - std::uint64_t(a)) : a;
            else return a;
        case Op::Sign:
            if constexpr (std::is_signed_v<T>) return T(T(a > 0) - T(a < 0));
            else return T(a > 0);
        default: throw std::logic_error("not an integer unary op");
    }
}

template <class T>
T integerBinary(const Node& n, T a, T b) {
    switch (n.op) {
        case Op::Add: return wrap<T>(std::uint64_t(a) + std::uint64_t(b));
        case Op::Sub: return wrap<T>(std::uint64_t(a) - std::uint64_t(b));
        case Op::Mul: return wrap<T>(std::uint64_t(a) * std::uint64_t(b));
        case Op::Div:
            if (b == 0) detail::fail(n, "integer division by zero");
            if constexpr (std::is_signed_v<T>)
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

/// An element as a value that compares as the type does (f16 and bf16 widened to float).
template <class T>
auto comparable(T v) {
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) return toFloat(v);
    else return v;
}

template <class T>
void compare(KernelCall& call) {
    Tensor& out = newOutput(call, 0, call.outTypes.at(0).shape);
    float* dst = out.data();
    const T* a = call.inputs[0].ptr<T>();
    const T* b = call.inputs[1].ptr<T>();
    const bool greater = call.node.op == Op::Greater;
    forEachBroadcast<2>(call, out, [&](std::int64_t i, const std::array<std::int64_t, 2>& o) {
        const auto x = comparable(a[o[0]]), y = comparable(b[o[1]]);
        dst[i] = (greater ? x > y : x == y) ? 1.f : 0.f;
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
    visitDType(call.inputs.at(1).dtype(), [&](auto tag) { select<C, typename decltype(tag)::type>(call); });
}

}  // namespace

void integerElementwiseKernel(KernelCall& call) {
    const Node& n = call.node;
    const DType type = call.inputs.at(0).dtype();
    if (n.op == Op::Where) return type == DType::Bool ? selectOf<std::uint8_t>(call) : selectOf<float>(call);
    if (n.op == Op::Greater || n.op == Op::Equal)
        return visitDType(type, [&](auto tag) { compare<typename decltype(tag)::type>(call); });
    if (isInteger(type) && computesOnIntegers(n.op))
        return visitIntegerDType(type, [&](auto tag) { arithmetic<typename decltype(tag)::type>(call); });
    detail::fail(n, std::string(opName(n.op)) + " of " + std::string(dtypeName(type)) + " values");
}

}  // namespace adj::cpu
