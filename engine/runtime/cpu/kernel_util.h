#pragma once
// Private helpers of the CPU kernels: error messages naming the node, TBB loops that stay serial
// for small work, strided row iteration over several operands at once, and the row-major GEMM
// entry shared by matmul, gemm and conv2d.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/errors.h"
#include "base/parallel.h"
#include "ir/graph.h"
#include "runtime/cpu/cpu_kernels.h"
#include "tensor/tensor.h"

namespace adj::cpu::detail {

/// Below this much work (roughly element operations) a loop runs serially.
inline constexpr std::int64_t kSerialWork = 32768;
/// Work per TBB chunk.
inline constexpr std::int64_t kGrainWork = 16384;

/// "node 'NAME' (op): "
inline std::string nodePrefix(const Node& n) {
    return "node '" + n.name + "' (" + std::string(opName(n.op)) + "): ";
}

[[noreturn]] inline void fail(const Node& n, const std::string& message) { throw Error(nodePrefix(n) + message); }

/// The input `i` when present and defined (optional inputs may be absent or undefined).
inline bool hasInput(const KernelCall& call, std::size_t i) {
    return call.inputs.size() > i && call.inputs[i].defined();
}

/// Normalizes an axis or throws naming the node.
inline std::int64_t axisOrFail(const Node& n, std::int64_t axis, std::int64_t rank, const char* what = "axis") {
    std::int64_t a = axis;
    if (!normalizeAxis(a, rank))
        fail(n, std::string(what) + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    return a;
}

/// Calls body(begin, end) over [0, n), in parallel when n * workPerItem is large enough.
template <class F>
void parallelFor(std::int64_t n, std::int64_t workPerItem, F&& body) {
    if (n <= 0) return;
    const std::int64_t w = std::max<std::int64_t>(1, workPerItem);
    if (n == 1 || n < kSerialWork / w + 1) {
        body(std::int64_t(0), n);
        return;
    }
    const std::int64_t grain = std::max<std::int64_t>(1, kGrainWork / w);
    adj::parallelBlocks(std::int64_t(0), n, std::size_t(grain), body);
}

/// A shape and the strides of N operands over it, with size-1 dimensions dropped and adjacent
/// dimensions merged where every operand allows it. Iterated as `rows` rows of `inner` elements.
template <std::size_t N>
struct RowLayout {
    Shape shape;
    std::array<Strides, N> strides;
    std::int64_t inner = 1;
    std::int64_t rows = 0;
};

template <std::size_t N>
RowLayout<N> makeRowLayout(const Shape& shape, const std::array<const Strides*, N>& strides) {
    RowLayout<N> L;
    const std::int64_t total = numel(shape);
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;
        bool merge = !L.shape.empty();
        for (std::size_t k = 0; k < N && merge; ++k)
            merge = L.strides[k].back() == (*strides[k])[d] * shape[d];
        if (merge) {
            L.shape.back() *= shape[d];
            for (std::size_t k = 0; k < N; ++k) L.strides[k].back() = (*strides[k])[d];
        } else {
            L.shape.push_back(shape[d]);
            for (std::size_t k = 0; k < N; ++k) L.strides[k].push_back((*strides[k])[d]);
        }
    }
    if (L.shape.empty()) {
        L.shape.push_back(1);
        for (std::size_t k = 0; k < N; ++k) L.strides[k].push_back(0);
    }
    L.inner = L.shape.back();
    L.rows = (total == 0 || L.inner == 0) ? 0 : total / L.inner;
    return L;
}

/// Calls f(offsets, length, innerStrides) for rows [r0, r1) of the layout; offsets are in
/// elements relative to each operand's data().
template <std::size_t N, class F>
void forRows(const RowLayout<N>& L, std::int64_t r0, std::int64_t r1, F&& f) {
    if (r0 >= r1) return;
    const std::size_t outer = L.shape.size() - 1;
    std::vector<std::int64_t> idx(outer, 0);
    std::array<std::int64_t, N> off{};
    std::array<std::int64_t, N> innerStride{};
    for (std::size_t k = 0; k < N; ++k) innerStride[k] = L.strides[k][outer];
    std::int64_t rem = r0;
    for (std::size_t d = outer; d-- > 0;) {
        idx[d] = rem % L.shape[d];
        rem /= L.shape[d];
        for (std::size_t k = 0; k < N; ++k) off[k] += idx[d] * L.strides[k][d];
    }
    for (std::int64_t r = r0; r < r1; ++r) {
        f(off, L.inner, innerStride);
        for (std::size_t d = outer; d-- > 0;) {
            for (std::size_t k = 0; k < N; ++k) off[k] += L.strides[k][d];
            if (++idx[d] < L.shape[d]) break;
            for (std::size_t k = 0; k < N; ++k) off[k] -= L.strides[k][d] * L.shape[d];
            idx[d] = 0;
        }
    }
}

/// forRows over all rows, in parallel when large; `costPerElement` scales the work estimate.
template <std::size_t N, class F>
void parallelRows(const RowLayout<N>& L, std::int64_t costPerElement, F&& f) {
    parallelFor(L.rows, L.inner * std::max<std::int64_t>(1, costPerElement),
                [&](std::int64_t r0, std::int64_t r1) { forRows(L, r0, r1, f); });
}

/// Calls f(output index, offset of each input) for every element of `out` (contiguous): the
/// first N inputs of `call` broadcast to out's shape with stride 0, walked row by row, in parallel
/// when large. For the typed kernels (any element type; offsets in elements).
template <std::size_t N, class F>
void forEachBroadcast(const KernelCall& call, const Tensor& out, F&& f) {
    std::array<Tensor, N> views;
    std::array<const Strides*, N + 1> strides{&out.strides()};
    for (std::size_t k = 0; k < N; ++k) {
        views[k] = call.inputs[k].expand(out.shape());
        strides[k + 1] = &views[k].strides();
    }
    const auto L = makeRowLayout<N + 1>(out.shape(), strides);
    parallelRows(L, 1, [&](const std::array<std::int64_t, N + 1>& off, std::int64_t n, const std::array<std::int64_t, N + 1>& st) {
        for (std::int64_t j = 0; j < n; ++j) {
            std::array<std::int64_t, N> at;
            for (std::size_t k = 0; k < N; ++k) at[k] = off[k + 1] + j * st[k + 1];
            f(off[0] + j * st[0], at);
        }
    });
}

/// Copies src into dst (same shape), any layouts, in parallel when large.
inline void stridedCopy(Tensor& dst, const Tensor& src) {
    if (dst.numel() == 0) return;
    float* d = dst.data();
    const float* s = src.data();
    auto L = makeRowLayout<2>(dst.shape(), {&dst.strides(), &src.strides()});
    parallelRows(L, 1, [&](const std::array<std::int64_t, 2>& off, std::int64_t n, const std::array<std::int64_t, 2>& st) {
        float* dp = d + off[0];
        const float* sp = s + off[1];
        if (st[0] == 1 && st[1] == 1) {
            std::copy_n(sp, n, dp);
        } else {
            for (std::int64_t j = 0; j < n; ++j) dp[j * st[0]] = sp[j * st[1]];
        }
    });
}

/// C = A B, row-major with leading dimensions (unit column strides), on the packed GEMM
/// (gemm_packed.h). Overwrites C. Defined in kernels_matmul.cpp.
void gemmRowMajor(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda, const float* B,
                  std::int64_t ldb, float* C, std::int64_t ldc);

}  // namespace adj::cpu::detail
