// Elementwise ops: NumPy broadcasting through stride-0 views, a flat loop when every operand is
// contiguous, strided rows otherwise.
#include <array>
#include <stdexcept>

#include "runtime/cpu/cpu_kernels.h"
#include "runtime/cpu/kernel_util.h"
#include "runtime/scalar_functions.h"

namespace adj::cpu {

namespace {

using detail::fail;

template <std::size_t N, class F>
inline float apply(F& f, const std::array<const float*, N>& p, const std::array<std::int64_t, N>& o) {
    if constexpr (N == 1) return f(p[0][o[0]]);
    else if constexpr (N == 2) return f(p[0][o[0]], p[1][o[1]]);
    else return f(p[0][o[0]], p[1][o[1]], p[2][o[2]]);
}

template <std::size_t N, class F>
void mapInto(Tensor& out, const std::array<Tensor, N>& in, F f) {
    const std::int64_t n = out.numel();
    if (n == 0) return;
    float* o = out.data();
    std::array<const float*, N> p;
    bool flat = out.isContiguous();
    for (std::size_t k = 0; k < N; ++k) {
        p[k] = in[k].data();
        flat = flat && in[k].isContiguous();
    }
    if (flat) {
        detail::parallelFor(n, 1, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t i = b; i < e; ++i) {
                if constexpr (N == 1) o[i] = f(p[0][i]);
                else if constexpr (N == 2) o[i] = f(p[0][i], p[1][i]);
                else o[i] = f(p[0][i], p[1][i], p[2][i]);
            }
        });
        return;
    }
    std::array<const Strides*, N + 1> strides;
    strides[0] = &out.strides();
    for (std::size_t k = 0; k < N; ++k) strides[k + 1] = &in[k].strides();
    auto L = detail::makeRowLayout<N + 1>(out.shape(), strides);
    detail::parallelRows(L, 1, [&](const std::array<std::int64_t, N + 1>& off, std::int64_t len,
                                   const std::array<std::int64_t, N + 1>& st) {
        float* op = o + off[0];
        std::array<const float*, N> ip;
        std::array<std::int64_t, N> is;
        bool unit = st[0] == 1;
        for (std::size_t k = 0; k < N; ++k) {
            ip[k] = p[k] + off[k + 1];
            is[k] = st[k + 1];
            unit = unit && is[k] == 1;
        }
        if (unit) {
            for (std::int64_t j = 0; j < len; ++j) {
                if constexpr (N == 1) op[j] = f(ip[0][j]);
                else if constexpr (N == 2) op[j] = f(ip[0][j], ip[1][j]);
                else op[j] = f(ip[0][j], ip[1][j], ip[2][j]);
            }
            return;
        }
        std::array<std::int64_t, N> io{};
        for (std::int64_t j = 0; j < len; ++j) {
            op[j * st[0]] = apply<N>(f, ip, io);
            for (std::size_t k = 0; k < N; ++k) io[k] += is[k];
        }
    });
}

template <std::size_t N, class F>
void runMap(KernelCall& call, F f) {
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
    call.outputs.resize(1);
    call.outputs[0] = Tensor::empty(shape);
    mapInto<N>(call.outputs[0], in, f);
}

}  // namespace

void elementwiseKernel(KernelCall& call) {
#define ADJ_UNARY(OP, FN) \
    case Op::OP: return runMap<1>(call, [](float x) { return FN(x); });
#define ADJ_BINARY(OP, FN) \
    case Op::OP: return runMap<2>(call, [](float a, float b) { return FN(a, b); });
    switch (call.node.op) {
        ADJ_UNARY(Neg, adj_neg)
        ADJ_UNARY(Abs, adj_abs)
        ADJ_UNARY(Exp, adj_exp)
        ADJ_UNARY(Log, adj_log)
        ADJ_UNARY(Sqrt, adj_sqrt)
        ADJ_UNARY(Sin, adj_sin)
        ADJ_UNARY(Cos, adj_cos)
        ADJ_UNARY(Tanh, adj_tanh)
        ADJ_UNARY(Sigmoid, adj_sigmoid)
        ADJ_UNARY(Relu, adj_relu)
        ADJ_UNARY(Gelu, adj_gelu)
        ADJ_UNARY(Erf, adj_erf)
        ADJ_UNARY(Sign, adj_sign)
        ADJ_BINARY(Add, adj_add)
        ADJ_BINARY(Sub, adj_sub)
        ADJ_BINARY(Mul, adj_mul)
        ADJ_BINARY(Div, adj_div)
        ADJ_BINARY(Pow, adj_pow)
        ADJ_BINARY(Maximum, adj_maximum)
        ADJ_BINARY(Minimum, adj_minimum)
        ADJ_BINARY(Greater, adj_greater)
        ADJ_BINARY(Equal, adj_equal)
    case Op::Where:
        return runMap<3>(call, [](float c, float a, float b) { return adj_where(c, a, b); });
    default:
        throw std::logic_error(detail::nodePrefix(call.node) + "not an elementwise op");
    }
#undef ADJ_UNARY
#undef ADJ_BINARY
}

}  // namespace adj::cpu
