// The Index family, the ops that read i64 values: gather (an embedding lookup when the axis is 0)
// and its adjoint gather_grad, which adds the adjoint's slices back into zeros at the same indices
// (several tokens with the same id add into the same row), gather_elements (torch.gather) and its
// adjoint, argmax and argmin, and cast (element types). Indices are i64; negative ones count from the end of the axis,
// as in ONNX; one out of range is an error naming the node, the index and where it is.
#include <cmath>
#include <cstring>
#include <utility>
#include <limits>
#include <type_traits>

#include "runtime/cpu/kernel_util.h"
#include "tensor/dtype_visit.h"

namespace adj::cpu {

namespace {

/// The data seen as [outer, axisSize, inner] around the gathered axis.
struct AxisSplit {
    std::int64_t outer = 1, axisSize = 1, inner = 1;
};

AxisSplit splitAt(const Shape& data, std::int64_t axis) {
    AxisSplit s;
    for (std::int64_t d = 0; d < axis; ++d) s.outer *= data[std::size_t(d)];
    s.axisSize = data[std::size_t(axis)];
    for (std::size_t d = std::size_t(axis) + 1; d < data.size(); ++d) s.inner *= data[d];
    return s;
}

/// The indices in row-major order, negative ones wrapped; throws naming the node and the
/// position of the first index outside [-axisSize, axisSize).
std::vector<std::int64_t> checkedIndices(const Node& n, const Tensor& indices, std::int64_t axisSize) {
    std::vector<std::int64_t> v = indices.toInts();
    for (std::size_t k = 0; k < v.size(); ++k) {
        std::int64_t& i = v[k];
        if (i < -axisSize || i >= axisSize)
            detail::fail(n, "index " + std::to_string(i) + " (element " + std::to_string(k) + " of the indices " +
                                shapeToString(indices.shape()) + ") is out of range for an axis of size " + std::to_string(axisSize));
        if (i < 0) i += axisSize;
    }
    return v;
}

void gather(KernelCall& call) {
    const Node& n = call.node;
    const Tensor data = call.inputs[0].contiguous();
    const std::int64_t axis = detail::axisOrFail(n, n.attrs.getInt(n.op, "axis"), data.rank());
    const AxisSplit s = splitAt(data.shape(), axis);
    const std::vector<std::int64_t> idx = checkedIndices(n, call.inputs[1], s.axisSize);
    const auto count = std::int64_t(idx.size());
    Tensor& out = newOutput(call, 0, call.outTypes.at(0).shape);
    const std::byte* src = data.bytes();  // (any element type: gather only moves elements)
    std::byte* dst = out.bytes();
    const std::size_t row = std::size_t(s.inner) * dtypeSize(data.dtype());
    // one row of `inner` elements per (outer, index) pair
    detail::parallelFor(s.outer * count, s.inner, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t r = begin; r < end; ++r) {
            const std::int64_t o = r / count, k = r % count;
            std::memcpy(dst + std::size_t(r) * row, src + std::size_t(o * s.axisSize + idx[std::size_t(k)]) * row, row);
        }
    });
}

void gatherGrad(KernelCall& call) {
    const Node& n = call.node;
    const Shape& dataShape = call.outTypes.at(0).shape;
    const std::int64_t axis = detail::axisOrFail(n, n.attrs.getInt(n.op, "axis"), std::int64_t(dataShape.size()));
    const AxisSplit s = splitAt(dataShape, axis);
    const std::vector<std::int64_t> idx = checkedIndices(n, call.inputs[1], s.axisSize);
    const auto count = std::int64_t(idx.size());
    const Tensor g = call.inputs[0].contiguous();
    Tensor& out = filledOutput(call, 0, dataShape, 0.0f);
    const float* src = g.data();
    float* dst = out.data();
    // parallel over the outer slices, each adding its indices in order: no two threads write the
    // same row, and the sums come out the same on every run
    detail::parallelFor(s.outer, count * s.inner, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t o = begin; o < end; ++o)
            for (std::int64_t k = 0; k < count; ++k) {
                const float* from = src + (o * count + k) * s.inner;
                float* to = dst + (o * s.axisSize + idx[std::size_t(k)]) * s.inner;
                for (std::int64_t j = 0; j < s.inner; ++j) to[j] += from[j];
            }
    });
}

/// For each element of the indices (row-major), the flat offset it reads in (or adds into) data:
/// its own coordinates with the axis coordinate replaced by its index. Throws like checkedIndices.
std::vector<std::int64_t> elementOffsets(const Node& n, const Tensor& indices, const Shape& data, std::int64_t axis) {
    const Shape& is = indices.shape();
    const std::vector<std::int64_t> idx = checkedIndices(n, indices, data[std::size_t(axis)]);
    std::vector<std::int64_t> strides(data.size(), 1), coord(is.size(), 0), offsets(idx.size());
    for (std::size_t d = data.size(); d-- > 1;) strides[d - 1] = strides[d] * data[d];
    for (std::size_t k = 0; k < idx.size(); ++k) {
        std::int64_t off = 0;
        for (std::size_t d = 0; d < is.size(); ++d) off += (std::int64_t(d) == axis ? idx[k] : coord[d]) * strides[d];
        offsets[k] = off;
        for (std::size_t d = is.size(); d-- > 0;) {  // the next coordinate, row-major
            if (++coord[d] < is[d]) break;
            coord[d] = 0;
        }
    }
    return offsets;
}

void gatherElements(KernelCall& call) {
    const Node& n = call.node;
    const Tensor data = call.inputs[0].contiguous();
    const std::int64_t axis = detail::axisOrFail(n, n.attrs.getInt(n.op, "axis"), data.rank());
    const std::vector<std::int64_t> offsets = elementOffsets(n, call.inputs[1], data.shape(), axis);
    Tensor& out = newOutput(call, 0, call.outTypes.at(0).shape);
    const std::byte* src = data.bytes();  // (any element type)
    std::byte* dst = out.bytes();
    const std::size_t size = dtypeSize(data.dtype());
    for (std::size_t k = 0; k < offsets.size(); ++k) std::memcpy(dst + k * size, src + std::size_t(offsets[k]) * size, size);
}

void gatherElementsGrad(KernelCall& call) {
    const Node& n = call.node;
    const Shape& dataShape = call.outTypes.at(0).shape;
    const std::int64_t axis = detail::axisOrFail(n, n.attrs.getInt(n.op, "axis"), std::int64_t(dataShape.size()));
    const std::vector<std::int64_t> offsets = elementOffsets(n, call.inputs[1], dataShape, axis);
    const Tensor g = call.inputs[0].contiguous();
    Tensor& out = filledOutput(call, 0, dataShape, 0.0f);
    const float* src = g.data();
    float* dst = out.data();
    for (std::size_t k = 0; k < offsets.size(); ++k) dst[offsets[k]] += src[k];  // in order: the same sums every run
}

template <class T>
constexpr bool isFloatC = std::is_floating_point_v<T> || std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

/// A float-type element as float or double (f16 and bf16 exactly as float).
template <class T>
auto widened(T v) {
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) return toFloat(v);
    else return v;
}

/// float(v), with values beyond float32's range becoming +-inf (a plain cast of such a double is
/// undefined behaviour).
float narrowToFloat(double v) {
    constexpr double kLimit = 3.4028235677973366e38;  // FLT_MAX plus just under half an ulp
    if (v >= kLimit) return std::numeric_limits<float>::infinity();
    if (v <= -kLimit) return -std::numeric_limits<float>::infinity();
    return float(v);
}

/// A float or double value rounded to the float type To (nearest, ties to even).
template <class To, class V>
To roundTo(V v) {
    if constexpr (std::is_same_v<To, double>) return double(v);
    else {
        const float f = std::is_same_v<V, double> ? narrowToFloat(double(v)) : float(v);
        if constexpr (std::is_same_v<To, float>) return f;
        else if constexpr (std::is_same_v<To, Half>) return toHalf(f);
        else return toBFloat16(f);
    }
}

/// The integers a float type holds exactly: up to 2^digits.
template <class T>
constexpr int exactDigits() {
    if constexpr (std::is_same_v<T, double>) return 53;
    else if constexpr (std::is_same_v<T, float>) return 24;
    else if constexpr (std::is_same_v<T, Half>) return 11;
    else return 8;
}

/// One element converted: nothing is wrapped silently, and integers are never rounded. An
/// integer beyond the float type's exact integers (f32: 2^24, f64: 2^53, f16: 2^11, bf16: 2^8), a
/// float that is not finite or does not fit the integer type, and an integer beyond the target's
/// range are errors naming the node and the element; a float becomes an integer toward zero,
/// anything nonzero is true, and floats round to a narrower float type to nearest even (values
/// beyond its range become infinite).
template <class ToTag, class FromTag>
typename ToTag::type convertElement(const Node& n, typename FromTag::type v, std::int64_t i) {
    using To = typename ToTag::type;
    using From = typename FromTag::type;
    auto failAt = [&](const std::string& what) { detail::fail(n, what + " (element " + std::to_string(i) + ")"); };
    const auto toName = [] { return std::string(dtypeName(ToTag::dtype)); };  // (for messages only: this runs per element)
    if constexpr (ToTag::dtype == DType::Bool) {
        return widened(v) != decltype(widened(v))(0) ? 1 : 0;
    } else if constexpr (isFloatC<To>) {
        if constexpr (isFloatC<From>) {
            return roundTo<To>(widened(v));
        } else {
            constexpr std::uint64_t kExact = std::uint64_t(1) << exactDigits<To>();
            const bool exact = std::is_signed_v<From> && v < 0 ? std::uint64_t(0) - std::uint64_t(std::int64_t(v)) <= kExact : std::uint64_t(v) <= kExact;
            if (!exact)
                failAt("the integer " + std::to_string(v) + " is beyond " + toName() + "'s exact integers (2^" + std::to_string(exactDigits<To>()) + ")");
            return roundTo<To>(double(v));
        }
    } else if constexpr (isFloatC<From>) {
        const double d = double(widened(v));
        if (!std::isfinite(d)) failAt("cannot make an integer of " + std::to_string(d));
        const double t = std::trunc(d);
        if (t < double(std::numeric_limits<To>::min()) || t >= double(std::numeric_limits<To>::max()) + 1.0)
            failAt(std::to_string(d) + " does not fit " + toName());
        return To(t);
    } else {
        if (!std::in_range<To>(v)) failAt("the integer " + std::to_string(v) + " does not fit " + toName());
        return To(v);
    }
}

/// cast: element type conversion between any two types (ir/element_types.h).
void cast(KernelCall& call) {
    const Tensor in = call.inputs[0].contiguous();
    Tensor& out = newOutput(call, 0, in.shape());
    visitDType(out.dtype(), [&](auto to) {
        visitDType(in.dtype(), [&](auto from) {
            using To = typename decltype(to)::type;
            using From = typename decltype(from)::type;
            const From* src = in.ptr<From>();
            To* dst = out.ptr<To>();
            for (std::int64_t i = 0; i < in.numel(); ++i) dst[i] = convertElement<decltype(to), decltype(from)>(call.node, src[i], i);
        });
    });
}

/// argmax / argmin along an axis: i64 positions, ties to the first (or the last with
/// select_last_index); a NaN counts as the largest and the smallest value, as torch has it.
void argExtreme(KernelCall& call) {
    const Node& n = call.node;
    const bool isMax = n.op == Op::ArgMax, last = n.attrs.getInt(n.op, "select_last_index") != 0;
    const Tensor x = call.inputs[0].contiguous();
    const std::int64_t axis = detail::axisOrFail(n, n.attrs.getInt(n.op, "axis"), x.rank());
    const AxisSplit s = splitAt(x.shape(), axis);
    call.outputs.assign(1, Tensor::empty(call.outTypes.at(0).shape, DType::I64));  // i64: never an arena slot
    std::int64_t* dst = call.outputs[0].i64();
    const float* src = x.data();
    detail::parallelFor(s.outer * s.inner, s.axisSize, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t r = begin; r < end; ++r) {
            const std::int64_t o = r / s.inner, j = r % s.inner;
            const float* p = src + o * s.axisSize * s.inner + j;
            std::int64_t best = 0;
            float bestValue = p[0];
            for (std::int64_t k = 1; k < s.axisSize; ++k) {
                const float v = p[k * s.inner];
                if (bestValue != bestValue) break;  // a NaN wins and stays
                const bool better = v != v || (isMax ? (last ? v >= bestValue : v > bestValue) : (last ? v <= bestValue : v < bestValue));
                if (better) {
                    best = k;
                    bestValue = v;
                }
            }
            dst[r] = best;
        }
    });
}

}  // namespace

void indexKernel(KernelCall& call) {
    switch (call.node.op) {
        case Op::ArgMax: case Op::ArgMin: argExtreme(call); return;
        case Op::Cast: cast(call); return;
        case Op::Gather: gather(call); return;
        case Op::GatherGrad: gatherGrad(call); return;
        case Op::GatherElements: gatherElements(call); return;
        case Op::GatherElementsGrad: gatherElementsGrad(call); return;
#define ADJ_FAMILY_CASE_Index(id)
#include "ir/op_family_cases.inc"
            detail::fail(call.node, "not an index op");
    }
}

}  // namespace adj::cpu
