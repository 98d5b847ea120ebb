#pragma once
// One C++ function per elementwise op of ops.def, ew_<Id>(a, b, c, alpha, beta, gamma), whose body
// is the op's scalar expression from the table, and visitElementwise, the one switch over them
// that the CPU kernels (unfused and fused) and constant folding go through. The GLSL twins of
// these functions are generated from the same text (runtime/vulkan/elementwise_glsl.h).
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "ir/op.h"
#include "runtime/scalar_math.h"

namespace adj {

#define OP(...)
#define EW(id, name, arity, groups, flops, attrs, onnx, expr, ...)                                                                      \
    template <class T = float>                                                                                                       \
    [[gnu::always_inline]] inline T ew_##id([[maybe_unused]] T a, [[maybe_unused]] T b, [[maybe_unused]] T c, [[maybe_unused]] T alpha,  \
                         [[maybe_unused]] T beta, [[maybe_unused]] T gamma) {                                                         \
        return T(expr);                                                                                                              \
    }
#include "ir/ops.def"
#undef OP
#undef EW

template <int N>
using Arity = std::integral_constant<int, N>;

/// Calls visit(Arity<n>{}, f) for elementwise op `op`, where f(a, b, c) computes one element in T
/// (float; double for f64 values) with the parameters p (unused inputs are ignored). Throws
/// std::logic_error for an op without a scalar expression.
/// Always inlined, as are the functions and lambdas it calls, so that a caller compiled for another
/// target (the AVX2 clone of applyElementwise) gets its loops compiled for that target too.
template <class T, class Visit>
[[gnu::always_inline]] inline decltype(auto) visitElementwiseIn(Op op, const EwParams& p, Visit&& visit) {
    switch (op) {
#define OP(id, ...) \
    case Op::id:    \
        break;
#define EW(id, name, arity, ...) \
    case Op::id:                 \
        return visit(Arity<arity>{}, [p](T a, T b, T c) __attribute__((always_inline)) { return ew_##id<T>(a, b, c, T(p[0]), T(p[1]), T(p[2])); });
#include "ir/ops.def"
#undef OP
#undef EW
    }
    throw std::logic_error("op '" + std::string(opName(op)) + "' has no scalar expression");
}

/// visitElementwiseIn in float, what the kernels and constant folding compute f32 values with.
template <class Visit>
[[gnu::always_inline]] inline decltype(auto) visitElementwise(Op op, const EwParams& p, Visit&& visit) {
    return visitElementwiseIn<float>(op, p, std::forward<Visit>(visit));
}

/// f with only its first N arguments (the rest 0), for loops over N operands.
template <int N, class F>
[[gnu::always_inline]] inline auto withArity(F f) {
    if constexpr (N == 1) return [f](float a) __attribute__((always_inline)) { return f(a, 0.f, 0.f); };
    else if constexpr (N == 2) return [f](float a, float b) __attribute__((always_inline)) { return f(a, b, 0.f); };
    else return f;
}

}  // namespace adj
