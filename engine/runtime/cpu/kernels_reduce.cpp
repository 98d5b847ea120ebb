// Sum, Mean, Max over axes (kept axes first, reduced axes last, then one row per output), and
// Softmax / LogSoftmax along one axis (numerically stable: the row max is subtracted).
#include <tbb/parallel_reduce.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "runtime/cpu/cpu_kernels.h"
#include "runtime/cpu/kernel_util.h"

namespace adj::cpu {

namespace {

using detail::fail;

double sumRow(const float* p, std::int64_t n) {
    double s = 0;
    for (std::int64_t i = 0; i < n; ++i) s += p[i];
    return s;
}

float maxRow(const float* p, std::int64_t n) {
    float m = -std::numeric_limits<float>::infinity();
    for (std::int64_t i = 0; i < n; ++i) {
        const float v = p[i];
        if (v > m || v != v) m = v;
        if (m != m) break;
    }
    return m;
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

    call.outputs.resize(1);
    call.outputs[0] = Tensor::empty(outShape);
    float* o = call.outputs[0].data();
    if (outer == 0) return;
    const Tensor xc = rank == 0 ? x.contiguous() : x.permute(perm).contiguous();
    const float* p = xc.data();

    if (outer == 1 && inner >= detail::kSerialWork) {
        // One long row: reduce it in parallel.
        const std::int64_t grain = detail::kGrainWork;
        tbb::blocked_range<std::int64_t> range(0, inner, std::size_t(grain));
        if (op == Op::Max) {
            auto combine = [](float a, float b) { return (a != a) ? a : (b != b) ? b : (a > b ? a : b); };
            o[0] = tbb::parallel_reduce(
                range, -std::numeric_limits<float>::infinity(),
                [&](const tbb::blocked_range<std::int64_t>& r, float m) {
                    return combine(m, maxRow(p + r.begin(), r.end() - r.begin()));
                },
                combine);
        } else {
            const double s = tbb::parallel_reduce(
                range, 0.0,
                [&](const tbb::blocked_range<std::int64_t>& r, double acc) { return acc + sumRow(p + r.begin(), r.end() - r.begin()); },
                [](double a, double b) { return a + b; });
            o[0] = float(op == Op::Mean ? s / double(inner) : s);
        }
        return;
    }
    detail::parallelFor(outer, inner, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) {
            const float* row = p + i * inner;
            switch (op) {
            case Op::Max:
                o[i] = maxRow(row, inner);
                break;
            case Op::Mean:
                o[i] = float(sumRow(row, inner) / double(inner));
                break;
            default:
                o[i] = float(sumRow(row, inner));
                break;
            }
        }
    });
}

void softmax(KernelCall& call, bool logForm) {
    const Node& n = call.node;
    const Tensor& x = call.inputs[0];
    const std::int64_t axis = detail::axisOrFail(n, n.attrs.getInt(n.op, "axis"), x.rank());
    if (call.outTypes[0].shape != x.shape())
        fail(n, "output shape " + shapeToString(call.outTypes[0].shape) + " differs from the input shape " + shapeToString(x.shape()));
    call.outputs.resize(1);
    call.outputs[0] = Tensor::empty(x.shape());
    Tensor& out = call.outputs[0];
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
    default:
        throw std::logic_error(detail::nodePrefix(call.node) + "not a reduction op");
    }
}

}  // namespace adj::cpu
