// The float types beside f32 (ir/element_types.h), and matmul on integers (in the integer type,
// wrapping around). f64 values compute in double: every
// elementwise op (ops.def's expressions compiled for double, with the library's double
// functions), matmul (NumPy batching, 1-D operands included) and the sum, mean and max
// reductions. f16 and bf16 values compute elementwise only: each element widened to f32 (exact),
// the op's f32 expression, the result rounded back to nearest even; for +, -, *, /, sqrt, max,
// min and remainders this equals the correctly rounded result (f32 has more than twice their
// precision), as ONNX Runtime and PyTorch give on CPU.
#include <cmath>
#include <limits>
#include <numeric>

#include "ir/element_types.h"
#include "runtime/cpu/kernel_util.h"
#include "runtime/elementwise_functions.h"
#include "tensor/dtype_visit.h"

namespace adj::cpu {

namespace {

using detail::fail;
using detail::forEachBroadcast;

/// out[i] = f(in[0][i], in[1][i], ...) for the op's arity, inputs broadcast. Load and Store move
/// between the storage type S and the computing type T.
template <class S, class T, int N, class F, class Load, class Store>
void mapTyped(KernelCall& call, F f, Load load, Store store) {
    Tensor& out = newOutput(call, 0, call.outTypes.at(0).shape);
    S* dst = out.ptr<S>();
    std::array<const S*, 3> src{};
    for (int k = 0; k < N; ++k) src[std::size_t(k)] = call.inputs[std::size_t(k)].ptr<S>();
    forEachBroadcast<std::size_t(N)>(call, out, [&](std::int64_t i, const std::array<std::int64_t, std::size_t(N)>& o) {
        T a = load(src[0][o[0]]), b{}, c{};
        if constexpr (N > 1) b = load(src[1][o[1]]);
        if constexpr (N > 2) c = load(src[2][o[2]]);
        dst[i] = store(f(a, b, c));
    });
}

template <class S>
void halfElementwise(KernelCall& call) {
    const EwParams params = ewParams(call.node.op, call.node.attrs);
    const auto load = [](S v) { return toFloat(v); };
    const auto store = [](float v) {
        if constexpr (std::is_same_v<S, Half>) return toHalf(v);
        else return toBFloat16(v);
    };
    visitElementwise(call.node.op, params, [&](auto arity, auto f) { mapTyped<S, float, decltype(arity)::value>(call, f, load, store); });
}

void doubleElementwise(KernelCall& call) {
    const EwParams params = ewParams(call.node.op, call.node.attrs);
    const auto same = [](double v) { return v; };
    visitElementwiseIn<double>(call.node.op, params, [&](auto arity, auto f) { mapTyped<double, double, decltype(arity)::value>(call, f, same, same); });
}

/// C[b] = A[b] B[b] in T (double, or an integer type with wrap-around), NumPy's matmul semantics: a 1-D A is a row, a 1-D B a column (the
/// added dimension dropped from the result), leading dimensions broadcast.
template <class T>
void typedMatmul(KernelCall& call) {
    Tensor a = call.inputs[0], b = call.inputs[1];
    if (a.rank() == 1) a = a.unsqueeze(0);
    if (b.rank() == 1) b = b.unsqueeze(1);
    if (a.rank() < 2 || b.rank() < 2) fail(call.node, "matmul of scalars");
    const std::int64_t M = a.dim(-2), K = a.dim(-1), N = b.dim(-1);
    if (b.dim(-2) != K) fail(call.node, "inner dimensions differ: " + shapeToString(a.shape()) + " and " + shapeToString(b.shape()));
    // the broadcast batch shape
    const std::size_t batchRank = std::size_t(std::max(a.rank(), b.rank()) - 2);
    Shape batch(batchRank, 1);
    for (std::size_t d = 0; d < batchRank; ++d) {
        auto dimOf = [&](const Tensor& t) {
            const std::int64_t at = std::int64_t(d) - std::int64_t(batchRank) + t.rank() - 2;
            return at >= 0 ? t.shape()[std::size_t(at)] : std::int64_t(1);
        };
        const std::int64_t x = dimOf(a), y = dimOf(b);
        if (x != y && x != 1 && y != 1) fail(call.node, "batch dimensions do not broadcast: " + shapeToString(a.shape()) + " and " + shapeToString(b.shape()));
        batch[d] = std::max(x, y);
    }
    Shape as = batch, bs = batch;
    as.insert(as.end(), {M, K});
    bs.insert(bs.end(), {K, N});
    const Tensor A = a.expand(as).contiguous(), B = b.expand(bs).contiguous();
    Tensor& out = newOutput(call, 0, call.outTypes.at(0).shape);
    if (out.numel() != numel(batch) * M * N) fail(call.node, "output shape " + shapeToString(out.shape()) + " does not match the product");
    const T* pa = A.ptr<T>();
    const T* pb = B.ptr<T>();
    T* pc = out.ptr<T>();
    const std::int64_t batches = numel(batch);
    detail::parallelFor(batches * M, K * N, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t bi = r / M, i = r % M;
            const T* arow = pa + (bi * M + i) * K;
            const T* bm = pb + bi * K * N;
            T* crow = pc + (bi * M + i) * N;
            std::fill_n(crow, N, T(0));
            for (std::int64_t k = 0; k < K; ++k) {
                const T s = arow[k];
                const T* brow = bm + k * N;
                if constexpr (std::is_integral_v<T>)  // (wrap-around, through uint64: no signed overflow)
                    for (std::int64_t j = 0; j < N; ++j) crow[j] = T(std::uint64_t(crow[j]) + std::uint64_t(s) * std::uint64_t(brow[j]));
                else
                    for (std::int64_t j = 0; j < N; ++j) crow[j] += s * brow[j];
            }
        }
    });
}

/// sum, mean and max over the node's axes (all when none are given) in double.
void doubleReduce(KernelCall& call) {
    const Node& n = call.node;
    const Tensor& x = call.inputs[0];
    const std::int64_t rank = x.rank();
    std::vector<bool> reduced(std::size_t(rank), !n.attrs.has("axes") || n.attrs.getInts(n.op, "axes").empty());
    if (n.attrs.has("axes"))
        for (std::int64_t a : n.attrs.getInts(n.op, "axes")) reduced[std::size_t(detail::axisOrFail(n, a, rank))] = true;
    std::vector<std::int64_t> perm;
    std::int64_t outer = 1, inner = 1;
    for (int pass = 0; pass < 2; ++pass)
        for (std::int64_t d = 0; d < rank; ++d)
            if (reduced[std::size_t(d)] == (pass == 1)) {
                perm.push_back(d);
                (pass == 0 ? outer : inner) *= x.shape()[std::size_t(d)];
            }
    if (n.op == Op::Max && inner == 0 && outer > 0) fail(n, "max over an empty set of elements");
    const Tensor c = x.permute(perm).contiguous();
    Tensor& out = newOutput(call, 0, call.outTypes.at(0).shape);
    if (out.numel() != outer) fail(n, "output shape " + shapeToString(out.shape()) + " does not match the reduction of " + shapeToString(x.shape()));
    const double* p = c.ptr<double>();
    double* o = out.ptr<double>();
    detail::parallelFor(outer, inner, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const double* row = p + r * inner;
            if (n.op == Op::Max) {
                double m = -std::numeric_limits<double>::infinity();
                for (std::int64_t i = 0; i < inner; ++i) m = (row[i] > m || row[i] != row[i]) && m == m ? row[i] : m;
                o[r] = m;
            } else {
                const double s = std::accumulate(row, row + inner, 0.0);
                o[r] = n.op == Op::Mean ? (inner > 0 ? s / double(inner) : std::numeric_limits<double>::quiet_NaN()) : s;
            }
        }
    });
}

}  // namespace

bool runsFloatTypesKernel(const KernelCall& call) {
    if (call.inputs.empty()) return false;
    const DType t = call.inputs[0].dtype();
    if (isInteger(t) && call.node.op == Op::MatMul) return true;
    return (t == DType::F64 || isHalf(t)) && computesIn(call.node.op, t);
}

void floatTypesKernel(KernelCall& call) {
    const Node& n = call.node;
    const DType t = call.inputs.at(0).dtype();
    if (opInfo(n.op).family == OpFamily::Elementwise) {
        if (t == DType::F64) return doubleElementwise(call);
        if (t == DType::F16) return halfElementwise<Half>(call);
        if (t == DType::BF16) return halfElementwise<BFloat16>(call);
    } else if (t == DType::F64 && n.op == Op::MatMul) {
        return typedMatmul<double>(call);
    } else if (isInteger(t) && n.op == Op::MatMul) {
        return visitIntegerDType(t, [&](auto tag) { typedMatmul<typename decltype(tag)::type>(call); });
    } else if (t == DType::F64 && (n.op == Op::Sum || n.op == Op::Mean || n.op == Op::Max)) {
        return doubleReduce(call);
    }
    fail(n, std::string(opName(n.op)) + " of " + std::string(dtypeName(t)) + " values (it computes in " + typesComputedIn(n.op) + ")");
}

}  // namespace adj::cpu
