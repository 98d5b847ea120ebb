// Data movement. Views (family View): reshape, transpose, flatten, squeeze, unsqueeze, expand,
// slice and split return views of their input (reshape copies only when the strides do not allow
// a view). Copies (family Copy): concat and constant padding.
#include <algorithm>
#include <cmath>
#include <utility>
#include <numeric>
#include <stdexcept>

#include "runtime/cpu/cpu_kernels.h"
#include "runtime/cpu/kernel_util.h"
#include "tensor/dtype_visit.h"

namespace adj::cpu {

namespace {

using detail::fail;

const Shape& outShape(const KernelCall& call, std::size_t i = 0) { return call.outTypes[i].shape; }

void setOutput(KernelCall& call, Tensor t) {
    call.outputs.resize(1);
    call.outputs[0] = std::move(t);
}

void reshapeTo(KernelCall& call) {
    const Tensor& x = call.inputs[0];
    const Shape& s = outShape(call);
    if (!shapeIsSane(s) || numel(s) != x.numel())
        fail(call.node, "cannot reshape " + shapeToString(x.shape()) + " to " + shapeToString(s));
    setOutput(call, x.reshape(s));
}

void transpose(KernelCall& call) {
    const Node& n = call.node;
    const Tensor& x = call.inputs[0];
    std::vector<std::int64_t> perm;
    if (n.attrs.has("perm")) {
        perm = n.attrs.getInts(n.op, "perm");
    } else {
        perm.resize(std::size_t(x.rank()));
        std::iota(perm.rbegin(), perm.rend(), std::int64_t(0));
    }
    if (std::int64_t(perm.size()) != x.rank())
        fail(n, "perm has " + std::to_string(perm.size()) + " entries for an input of rank " + std::to_string(x.rank()));
    Tensor y;
    try {
        y = x.permute(perm);
    } catch (const std::invalid_argument&) {
        fail(n, "perm is not a permutation of the input's axes");
    }
    if (y.shape() != outShape(call))
        fail(n, "output shape " + shapeToString(outShape(call)) + " does not match the transposed " + shapeToString(y.shape()));
    setOutput(call, y);
}

void expand(KernelCall& call) {
    const Tensor& x = call.inputs[0];
    try {
        setOutput(call, x.expand(outShape(call)));
    } catch (const std::invalid_argument&) {
        fail(call.node, "cannot expand " + shapeToString(x.shape()) + " to " + shapeToString(outShape(call)));
    }
}

void slice(KernelCall& call) {
    const Node& n = call.node;
    const Tensor& x = call.inputs[0];
    const std::int64_t rank = x.rank();
    const auto starts = n.attrs.getInts(n.op, "starts");
    const auto ends = n.attrs.getInts(n.op, "ends");
    const std::size_t count = starts.size();
    if (ends.size() != count) fail(n, "starts and ends have different lengths");
    std::vector<std::int64_t> axes, steps;
    if (n.attrs.has("axes")) {
        axes = n.attrs.getInts(n.op, "axes");
    } else {
        axes.resize(count);
        std::iota(axes.begin(), axes.end(), std::int64_t(0));
    }
    if (n.attrs.has("steps")) steps = n.attrs.getInts(n.op, "steps");
    else steps.assign(count, 1);
    if (axes.size() != count || steps.size() != count) fail(n, "starts, ends, axes and steps have different lengths");
    std::vector<bool> seen(std::size_t(rank), false);
    Tensor y = x;
    for (std::size_t i = 0; i < count; ++i) {
        const std::int64_t axis = detail::axisOrFail(n, axes[i], rank);
        if (seen[std::size_t(axis)]) fail(n, "axis " + std::to_string(axes[i]) + " is sliced twice");
        seen[std::size_t(axis)] = true;
        const std::int64_t step = steps[i];
        if (step < 0) fail(n, "negative steps are not supported");
        if (step == 0) fail(n, "step 0 on axis " + std::to_string(axes[i]));
        const std::int64_t dim = x.shape()[std::size_t(axis)];
        std::int64_t start = starts[i], end = ends[i];
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        start = std::clamp<std::int64_t>(start, 0, dim);
        end = std::clamp<std::int64_t>(end, 0, dim);
        y = y.slice(axis, start, end, step);
    }
    if (y.shape() != outShape(call))
        fail(n, "output shape " + shapeToString(outShape(call)) + " does not match the slice " + shapeToString(y.shape()));
    setOutput(call, y);
}

void concat(KernelCall& call) {
    const Node& n = call.node;
    const Tensor& first = call.inputs[0];
    const std::int64_t rank = first.rank();
    const std::int64_t axis = detail::axisOrFail(n, n.attrs.getInt(n.op, "axis"), rank);
    const std::size_t ax = std::size_t(axis);
    Shape expected = first.shape();
    expected[ax] = 0;
    for (std::size_t i = 0; i < call.inputs.size(); ++i) {
        const Tensor& t = call.inputs[i];
        if (!t.defined()) fail(n, "input " + std::to_string(i) + " is undefined");
        bool ok = t.rank() == rank;
        for (std::size_t d = 0; ok && d < std::size_t(rank); ++d) ok = d == ax || t.shape()[d] == first.shape()[d];
        if (!ok)
            fail(n, "input " + std::to_string(i) + " of shape " + shapeToString(t.shape()) + " does not fit input 0 of shape " +
                        shapeToString(first.shape()) + " along axis " + std::to_string(axis));
        expected[ax] += t.shape()[ax];
    }
    if (expected != outShape(call))
        fail(n, "output shape " + shapeToString(outShape(call)) + " does not match the concatenation " + shapeToString(expected));
    Tensor out = newOutput(call, 0, expected);
    std::int64_t pos = 0;
    for (const Tensor& t : call.inputs) {
        const std::int64_t len = t.shape()[ax];
        if (len > 0 && t.numel() > 0) {
            Tensor dst = out.slice(axis, pos, pos + len);
            if (t.dtype() == DType::F32) detail::stridedCopy(dst, t);
            else dst.copyFrom(t);  // (integers and bools: element by element)
        }
        pos += len;
    }
    setOutput(call, out);
}

/// Every element of `t` (contiguous, of any element type) set to `value` in that type.
void fillWith(Tensor& t, double value) {
    visitDType(t.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T v;
        if constexpr (decltype(tag)::dtype == DType::Bool) v = value != 0;
        else if constexpr (std::is_same_v<T, Half>) v = toHalf(float(value));
        else if constexpr (std::is_same_v<T, BFloat16>) v = toBFloat16(float(value));
        else if constexpr (std::is_integral_v<T>) {
            if (!std::isfinite(value) || !std::in_range<T>(std::int64_t(value)) || double(std::int64_t(value)) != value)
                throw std::invalid_argument("the pad value " + std::to_string(value) + " is not a " + std::string(dtypeName(t.dtype())));
            v = T(std::int64_t(value));
        } else v = T(value);
        std::fill_n(t.ptr<T>(), t.numel(), v);
    });
}

void pad(KernelCall& call) {
    const Tensor& x = call.inputs[0];
    Tensor out = newOutput(call, 0, call.outTypes[0].shape);
    fillWith(out, call.node.attrs.getFloat(call.node.op, "value"));
    auto pads = call.node.attrs.getInts(call.node.op, "pads");
    Tensor view = out;
    for (std::size_t a = 0; a < x.shape().size(); ++a) view = view.slice(std::int64_t(a), pads[a], pads[a] + x.shape()[a]);
    view.copyFrom(x);
    call.outputs = {out};
}

void split(KernelCall& call) {
    const Node& n = call.node;
    const Tensor& x = call.inputs[0];
    const std::int64_t axis = detail::axisOrFail(n, n.attrs.getInt(n.op, "axis"), x.rank());
    const auto sizes = n.attrs.getInts(n.op, "sizes");
    if (sizes.size() != call.outTypes.size())
        fail(n, std::to_string(sizes.size()) + " sizes for " + std::to_string(call.outTypes.size()) + " outputs");
    std::int64_t total = 0;
    for (std::int64_t s : sizes) {
        if (s < 0) fail(n, "negative split size " + std::to_string(s));
        total += s;
    }
    const std::int64_t dim = x.shape()[std::size_t(axis)];
    if (total != dim)
        fail(n, "split sizes add up to " + std::to_string(total) + " but axis " + std::to_string(axis) + " has " + std::to_string(dim));
    call.outputs.resize(sizes.size());
    std::int64_t pos = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        Tensor part = x.slice(axis, pos, pos + sizes[i]);
        if (part.shape() != outShape(call, i))
            fail(n, "output " + std::to_string(i) + " shape " + shapeToString(outShape(call, i)) + " does not match " +
                        shapeToString(part.shape()));
        call.outputs[i] = part;
        pos += sizes[i];
    }
}

}  // namespace

void viewKernel(KernelCall& call) {
    switch (call.node.op) {
    case Op::Reshape:
    case Op::Flatten:
    case Op::Squeeze:
    case Op::Unsqueeze:
        return reshapeTo(call);
    case Op::Transpose:
        return transpose(call);
    case Op::Expand:
        return expand(call);
    case Op::Slice:
        return slice(call);
    case Op::Split:
        return split(call);
#define ADJ_FAMILY_CASE_View(id)
#include "ir/op_family_cases.inc"
        break;
    }
    throw std::logic_error(detail::nodePrefix(call.node) + "not a view op");
}

void copyKernel(KernelCall& call) {
    switch (call.node.op) {
    case Op::Concat:
        return concat(call);
    case Op::Pad:
        return pad(call);
#define ADJ_FAMILY_CASE_Copy(id)
#include "ir/op_family_cases.inc"
        break;
    }
    throw std::logic_error(detail::nodePrefix(call.node) + "not a copy op");
}

}  // namespace adj::cpu
