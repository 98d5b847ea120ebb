// Sum, Mean, Max over axes (rows over the last axes and columns over the leading axes in place,
// other layouts permuted to kept-first, reduced-last, then one row per output), and
// Softmax / LogSoftmax along one axis (numerically stable: the row max is subtracted).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "runtime/cpu/cpu_kernels.h"
#include "runtime/cpu/kernel_util.h"

namespace adj::cpu {

namespace {

using detail::fail;

/// Sums are accumulated in double over fixed blocks of kSumBlock elements, 8 lanes per block (a
/// loop the compiler vectorizes), the blocks then added in order: the same bits whether a row is
/// summed by one thread or its blocks by several.
constexpr std::int64_t kSumBlock = 16384;
constexpr int kLanes = 8;

double sumBlock(const float* p, std::int64_t n) {
    double acc[kLanes] = {};
    std::int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int l = 0; l < kLanes; ++l) acc[l] += double(p[i + l]);
    for (int l = 0; i < n; ++i, ++l) acc[l] += double(p[i]);
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

double sumRow(const float* p, std::int64_t n) {
    double s = 0;
    for (std::int64_t b = 0; b < n; b += kSumBlock) s += sumBlock(p + b, std::min(kSumBlock, n - b));
    return s;
}

inline float maxOf(float m, float v) { return (v > m || v != v) ? v : m; }
inline float combineMax(float a, float b) { return (a != a) ? a : (b != b) ? b : (a > b ? a : b); }

float maxRow(const float* p, std::int64_t n) {
    float m = -std::numeric_limits<float>::infinity();
    for (std::int64_t i = 0; i < n; ++i) m = maxOf(m, p[i]);
    return m;
}

/// The input seen as dims of alternating kind (kept or reduced), size-1 dims dropped and
/// neighbours of the same kind merged where their strides allow.
struct ReduceLayout {
    std::vector<std::int64_t> shape, stride;
    std::vector<bool> reduced;
};

ReduceLayout mergeForReduce(const Tensor& x, const std::vector<bool>& reduced) {
    ReduceLayout L;
    for (std::size_t d = 0; d < x.shape().size(); ++d) {
        const std::int64_t len = x.shape()[d], st = x.strides()[d];
        if (len == 1) continue;
        if (!L.shape.empty() && L.reduced.back() == reduced[d] && L.stride.back() == st * len) {
            L.shape.back() *= len;
            L.stride.back() = st;
            continue;
        }
        L.shape.push_back(len);
        L.stride.push_back(st);
        L.reduced.push_back(reduced[d]);
    }
    return L;
}

/// o[i] = reduce(p[i * rowStride .. + inner)) for i in [0, outer): rows contiguous.
void reduceRows(Op op, const float* p, std::int64_t rowStride, std::int64_t outer, std::int64_t inner, float* o) {
    if (outer == 1 && inner >= 2 * kSumBlock) {
        // One long row: its fixed blocks in parallel, then combined in order.
        const std::int64_t blocks = (inner + kSumBlock - 1) / kSumBlock;
        std::vector<double> part(static_cast<std::size_t>(blocks));
        std::vector<float> mpart(static_cast<std::size_t>(blocks));
        detail::parallelFor(blocks, kSumBlock, [&](std::int64_t b0, std::int64_t b1) {
            for (std::int64_t b = b0; b < b1; ++b) {
                const std::int64_t len = std::min(kSumBlock, inner - b * kSumBlock);
                if (op == Op::Max) mpart[std::size_t(b)] = maxRow(p + b * kSumBlock, len);
                else part[std::size_t(b)] = sumBlock(p + b * kSumBlock, len);
            }
        });
        if (op == Op::Max) {
            float m = -std::numeric_limits<float>::infinity();
            for (float v : mpart) m = combineMax(m, v);
            o[0] = m;
        } else {
            double s = 0;
            for (double v : part) s += v;
            o[0] = float(op == Op::Mean ? s / double(inner) : s);
        }
        return;
    }
    detail::parallelFor(outer, inner, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) {
            const float* row = p + i * rowStride;
            if (op == Op::Max) o[i] = maxRow(row, inner);
            else if (op == Op::Mean) o[i] = float(sumRow(row, inner) / double(inner));
            else o[i] = float(sumRow(row, inner));
        }
    });
}

/// o[j] = reduce_i p[i * rowStride + j] for j in [0, cols): a reduction over leading axes that
/// streams rows, parallel over column blocks (each column summed in row order: deterministic).
void reduceColumns(Op op, const float* p, std::int64_t rowStride, std::int64_t rows, std::int64_t cols, float* o) {
    constexpr std::int64_t kCols = 512;
    const std::int64_t blocks = (cols + kCols - 1) / kCols;
    detail::parallelFor(blocks, kCols * rows, [&](std::int64_t b0, std::int64_t b1) {
        for (std::int64_t b = b0; b < b1; ++b) {
            const std::int64_t j0 = b * kCols, n = std::min(kCols, cols - j0);
            float* __restrict out = o + j0;
            if (op == Op::Max) {
                float m[kCols];
                std::fill_n(m, n, -std::numeric_limits<float>::infinity());
                for (std::int64_t i = 0; i < rows; ++i) {
                    const float* __restrict r = p + i * rowStride + j0;
                    for (std::int64_t j = 0; j < n; ++j) m[j] = maxOf(m[j], r[j]);
                }
                std::copy_n(m, n, out);
            } else {
                double acc[kCols];
                std::fill_n(acc, n, 0.0);
                for (std::int64_t i = 0; i < rows; ++i) {
                    const float* __restrict r = p + i * rowStride + j0;
                    for (std::int64_t j = 0; j < n; ++j) acc[j] += double(r[j]);
                }
                const double scale = op == Op::Mean ? 1.0 / double(rows) : 1.0;
                for (std::int64_t j = 0; j < n; ++j) out[j] = float(op == Op::Mean ? acc[j] * scale : acc[j]);
            }
        }
    });
}

void reduceAxes(KernelCall& call) {
    const Node& n = call.node;
    const Tensor& x = call.inputs[0];
    const std::int64_t rank = x.rank();
    std::vector<bool> reduced(std::size_t(rank), false);
    std::vector<std::int64_t> axes;
    if (n.attrs.has("axes")) axes = n.attrs.getInts(n.op, "axes");
    if (axes.empty()) {
        std::fill(reduced.begin(), reduced.end(), true);
    } else {
        for (std::int64_t a : axes) {
            const std::int64_t ax = detail::axisOrFail(n, a, rank);
            if (reduced[std::size_t(ax)]) fail(n, "axis " + std::to_string(a) + " is listed twice");
            reduced[std::size_t(ax)] = true;
        }
    }
    std::vector<std::int64_t> perm;
    std::int64_t outer = 1, inner = 1;
    for (std::int64_t d = 0; d < rank; ++d)
        if (!reduced[std::size_t(d)]) {
            perm.push_back(d);
            outer *= x.shape()[std::size_t(d)];
        }
    for (std::int64_t d = 0; d < rank; ++d)
        if (reduced[std::size_t(d)]) {
            perm.push_back(d);
            inner *= x.shape()[std::size_t(d)];
        }
    const Shape& outShape = call.outTypes[0].shape;
    if (numel(outShape) != outer)
        fail(n, "output shape " + shapeToString(outShape) + " does not match the reduction of " + shapeToString(x.shape()));
    const Op op = n.op;
    if (op == Op::Max && inner == 0 && outer > 0) fail(n, "max over an empty set of elements");

    newOutput(call, 0, outShape);
    float* o = call.outputs[0].data();
    if (outer == 0) return;
    if (inner == 0) {
        std::fill_n(o, outer, op == Op::Mean ? std::numeric_limits<float>::quiet_NaN() : 0.f);
        return;
    }
    // Fast paths on the input in place: [kept, reduced] rows of unit stride (the last axes), or
    // [reduced, kept] with a contiguous kept part (the leading axes, as a broadcast summed back).
    const ReduceLayout L = mergeForReduce(x, reduced);
    const std::size_t dims = L.shape.size();
    if (dims == 0) {
        o[0] = x.data()[0];
        return;
    }
    if (L.reduced.back() && L.stride.back() == 1 && (dims == 1 || (dims == 2 && !L.reduced[0])))
        return reduceRows(op, x.data(), dims == 2 ? L.stride[0] : 0, outer, inner, o);
    if (dims == 2 && L.reduced[0] && !L.reduced[1] && L.stride[1] == 1) return reduceColumns(op, x.data(), L.stride[0], inner, outer, o);
    if (dims == 1 && !L.reduced[0] && L.stride[0] == 1) {
        std::copy_n(x.data(), outer, o);  // every reduced axis has length 1
        return;
    }
    const Tensor xc = x.permute(perm).contiguous();
    reduceRows(op, xc.data(), inner, outer, inner, o);
}

void softmax(KernelCall& call, bool logForm) {
    const Node& n = call.node;
    const Tensor& x = call.inputs[0];
    const std::int64_t axis = detail::axisOrFail(n, n.attrs.getInt(n.op, "axis"), x.rank());
    if (call.outTypes[0].shape != x.shape())
        fail(n, "output shape " + shapeToString(call.outTypes[0].shape) + " differs from the input shape " + shapeToString(x.shape()));
    Tensor& out = newOutput(call, 0, x.shape());
    if (out.numel() == 0) return;

    const std::size_t ax = std::size_t(axis);
    const std::int64_t len = x.shape()[ax], sx = x.strides()[ax], so = out.strides()[ax];
    Shape outerShape = x.shape();
    Strides xs = x.strides(), os = out.strides();
    outerShape.erase(outerShape.begin() + axis);
    xs.erase(xs.begin() + axis);
    os.erase(os.begin() + axis);
    const float* xp = x.data();
    float* op = out.data();
    auto L = detail::makeRowLayout<2>(outerShape, {&xs, &os});
    detail::parallelRows(L, len * 3, [&](const std::array<std::int64_t, 2>& off, std::int64_t count,
                                         const std::array<std::int64_t, 2>& st) {
        for (std::int64_t r = 0; r < count; ++r) {
            const float* xr = xp + off[0] + r * st[0];
            float* yr = op + off[1] + r * st[1];
            float m = -std::numeric_limits<float>::infinity();
            for (std::int64_t k = 0; k < len; ++k) {
                const float v = xr[k * sx];
                if (v > m || v != v) m = v;
                if (m != m) break;
            }
            double s = 0;
            if (logForm) {
                for (std::int64_t k = 0; k < len; ++k) s += std::exp(double(xr[k * sx] - m));
                const float ls = float(std::log(s));
                for (std::int64_t k = 0; k < len; ++k) yr[k * so] = xr[k * sx] - m - ls;
            } else {
                for (std::int64_t k = 0; k < len; ++k) {
                    const float e = std::exp(xr[k * sx] - m);
                    yr[k * so] = e;
                    s += e;
                }
                const float inv = float(1.0 / s);
                for (std::int64_t k = 0; k < len; ++k) yr[k * so] *= inv;
            }
        }
    });
}

}  // namespace

void reductionKernel(KernelCall& call) {
    switch (call.node.op) {
    case Op::Sum:
    case Op::Mean:
    case Op::Max:
        return reduceAxes(call);
    case Op::Softmax:
        return softmax(call, false);
    case Op::LogSoftmax:
        return softmax(call, true);
#define ADJ_FAMILY_CASE_Reduce(id)
#include "ir/op_family_cases.inc"
        break;
    }
    throw std::logic_error(detail::nodePrefix(call.node) + "not a reduction op");
}

}  // namespace adj::cpu
