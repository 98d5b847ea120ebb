// Elementwise ops: NumPy broadcasting through stride-0 views, a flat loop when every operand is
// contiguous, strided rows otherwise (merged where strides allow, so a broadcast along a leading
// axis is rows of contiguous loops and one along the last axis is a scalar per row).
#include <algorithm>
#include <array>
#include <stdexcept>

#include "runtime/cpu/cpu_kernels.h"
#include "runtime/cpu/kernel_util.h"
#include "runtime/elementwise_functions.h"

namespace adj::cpu {

namespace {

using detail::fail;

// Row loops, one per pattern of inner strides: 1 (contiguous) or 0 (broadcast along the row, a
// scalar) get loops the compiler vectorizes; anything else goes element by element.
template <class F>
inline void row1(float* __restrict o, const float* __restrict a, std::int64_t sa, std::int64_t n, F& f) {
    if (sa == 1) {
        for (std::int64_t j = 0; j < n; ++j) o[j] = f(a[j]);
    } else if (sa == 0) {
        std::fill_n(o, n, f(a[0]));
    } else {
        for (std::int64_t j = 0; j < n; ++j) o[j] = f(a[j * sa]);
    }
}

template <class F>
inline void row2(float* __restrict o, const float* __restrict a, std::int64_t sa, const float* __restrict b, std::int64_t sb,
                 std::int64_t n, F& f) {
    if (sa == 1 && sb == 1) {
        for (std::int64_t j = 0; j < n; ++j) o[j] = f(a[j], b[j]);
    } else if (sa == 1 && sb == 0) {
        const float bv = b[0];
        for (std::int64_t j = 0; j < n; ++j) o[j] = f(a[j], bv);
    } else if (sa == 0 && sb == 1) {
        const float av = a[0];
        for (std::int64_t j = 0; j < n; ++j) o[j] = f(av, b[j]);
    } else {
        for (std::int64_t j = 0; j < n; ++j) o[j] = f(a[j * sa], b[j * sb]);
    }
}

template <class F>
inline void row3(float* __restrict o, const float* __restrict a, std::int64_t sa, const float* __restrict b, std::int64_t sb,
                 const float* __restrict c, std::int64_t sc, std::int64_t n, F& f) {
    if (sa == 1 && sb == 1 && sc == 1) {
        for (std::int64_t j = 0; j < n; ++j) o[j] = f(a[j], b[j], c[j]);
    } else {
        for (std::int64_t j = 0; j < n; ++j) o[j] = f(a[j * sa], b[j * sb], c[j * sc]);
    }
}

/// out = f(in...) where every input already has the output's shape (broadcasts are stride-0
/// views) and out is contiguous.
template <std::size_t N, class F>
void mapInto(Tensor& out, const std::array<Tensor, N>& in, F f) {
    const std::int64_t n = out.numel();
    if (n == 0) return;
    if (!out.isContiguous()) throw std::logic_error("mapInto needs a contiguous output");
    float* o = out.data();
    std::array<const float*, N> p;
    bool flat = true;
    for (std::size_t k = 0; k < N; ++k) {
        p[k] = in[k].data();
        flat = flat && in[k].isContiguous();
    }
    if (flat) {
        detail::parallelFor(n, 1, [&](std::int64_t b, std::int64_t e) {
            if constexpr (N == 1) row1(o + b, p[0] + b, 1, e - b, f);
            else if constexpr (N == 2) row2(o + b, p[0] + b, 1, p[1] + b, 1, e - b, f);
            else row3(o + b, p[0] + b, 1, p[1] + b, 1, p[2] + b, 1, e - b, f);
        });
        return;
    }
    std::array<const Strides*, N + 1> strides;
    strides[0] = &out.strides();
    for (std::size_t k = 0; k < N; ++k) strides[k + 1] = &in[k].strides();
    auto L = detail::makeRowLayout<N + 1>(out.shape(), strides);
    detail::parallelRows(L, 1, [&](const std::array<std::int64_t, N + 1>& off, std::int64_t len,
                                   const std::array<std::int64_t, N + 1>& st) {
        float* op = o + off[0];  // out is contiguous: its inner stride is 1
        if constexpr (N == 1) row1(op, p[0] + off[1], st[1], len, f);
        else if constexpr (N == 2) row2(op, p[0] + off[1], st[1], p[1] + off[2], st[2], len, f);
        else row3(op, p[0] + off[1], st[1], p[1] + off[2], st[2], p[2] + off[3], st[3], len, f);
    });
}

template <std::size_t N, class F>
void runMap(KernelCall& call, const EwParams& params, F f) {
    const Shape& shape = call.outTypes[0].shape;
    std::array<Tensor, N> in;
    for (std::size_t k = 0; k < N; ++k) {
        const Tensor& t = call.inputs[k];
        if (t.shape() == shape) {
            in[k] = t;
            continue;
        }
        try {
            in[k] = t.expand(shape);
        } catch (const std::invalid_argument&) {
            fail(call.node, "input " + std::to_string(k) + " of shape " + shapeToString(t.shape()) +
                                " does not broadcast to the output shape " + shapeToString(shape));
        }
    }
    bool flat = true;
    for (const Tensor& t : in) flat = flat && t.isContiguous();
    Tensor& out = newOutput(call, 0, shape);
    if (flat && out.isContiguous()) {  // the shared (AVX2-cloned) loop
        float* o = out.data();
        std::array<const float*, N> p;
        for (std::size_t k = 0; k < N; ++k) p[k] = in[k].data();
        detail::parallelFor(out.numel(), 1, [&](std::int64_t b, std::int64_t e) {
            std::array<const float*, N> q;
            for (std::size_t k = 0; k < N; ++k) q[k] = p[k] + b;
            applyElementwise(call.node, call.node.op, params, o + b, q.data(), e - b);
        });
        return;
    }
    mapInto<N>(out, in, f);
}

}  // namespace

void elementwiseKernel(KernelCall& call) {
    if (!hasScalarExpr(call.node.op)) throw std::logic_error(detail::nodePrefix(call.node) + "not an elementwise op");
    for (const Tensor& t : call.inputs)
        if (t.dtype() != DType::F32) return integerElementwiseKernel(call);  // (f64, f16, bf16: floatTypesKernel, before this)
    const EwParams params = ewParams(call.node.op, call.node.attrs);
    visitElementwise(call.node.op, params, [&](auto arity, auto f) { runMap<arity>(call, params, withArity<arity>(f)); });
}

}  // namespace adj::cpu
