// Integer tensors (shapes, axes, indices, sizes): evaluated while importing, with symbolic
// dimensions, never turned into graph nodes.
#include <algorithm>
#include <climits>
#include <cmath>
#include <functional>
#include <numeric>

#include "io/onnx_import_ops.h"
#include "base/errors.h"

namespace adj::onnx_io::ops {

Sym symOp(const Importer& I, const Sym& a, const Sym& b, char op) {
    Sym r{};
    for (std::size_t k = 0; k < 3; ++k) {
        const std::int64_t x = a[k], y = b[k];
        std::int64_t z = 0;
        bool overflow = false;
        switch (op) {
            case '+': overflow = __builtin_add_overflow(x, y, &z); break;
            case '-': overflow = __builtin_sub_overflow(x, y, &z); break;
            case '*': overflow = __builtin_mul_overflow(x, y, &z); break;
            case '/':
                if (y == 0) I.fail("integer division by zero");
                if (x == INT64_MIN && y == -1) overflow = true;
                else z = x / y;  // truncation, as ONNX's integer Div
                break;
            case '%':  // ONNX Mod, fmod 0: the remainder takes the divisor's sign (Python's %)
            case 'f':  // fmod 1: the dividend's sign (C's fmod)
                if (y == 0) I.fail("integer Mod by zero");
                if (x == INT64_MIN && y == -1) { z = 0; break; }
                z = x % y;
                if (op == '%' && z != 0 && ((z < 0) != (y < 0))) z += y;
                break;
            case '<': z = x < y; break;
            case '>': z = x > y; break;
            case '=': z = x == y; break;
            case 'l': z = x <= y; break;
            case 'g': z = x >= y; break;
            case 'm': z = std::min(x, y); break;
            case 'M': z = std::max(x, y); break;
            case '&': z = (x != 0) && (y != 0); break;
            case '|': z = (x != 0) || (y != 0); break;
            case '^': z = (x != 0) != (y != 0); break;
            default: I.fail("internal: unknown integer op");
        }
        if (overflow) I.fail("integer overflow in shape arithmetic");
        r[k] = z;
    }
    return r;
}

/// Flat index into `in` (broadcast to `out`) of the element at flat index `i` of `out`.
std::int64_t broadcastSource(std::int64_t i, const Shape& out, const Shape& in) {
    std::int64_t src = 0, stride = 1;
    const auto offset = std::int64_t(out.size()) - std::int64_t(in.size());
    for (auto d = std::int64_t(out.size()) - 1; d >= 0; --d) {
        const std::int64_t idx = i % out[std::size_t(d)];
        i /= out[std::size_t(d)];
        const std::int64_t id = d - offset;
        if (id < 0) continue;
        const std::int64_t n = in[std::size_t(id)];
        if (n != 1) src += idx * stride;
        stride *= n;
    }
    return src;
}

IntTensor intMap(const IntTensor& a, const std::function<std::int64_t(std::int64_t)>& f) {
    IntTensor r = a;
    for (auto& s : r.data)
        for (auto& v : s) v = f(v);
    return r;
}

Sym symScalar(const Importer& I, const IntTensor& t, const std::string& what) {
    if (t.data.size() != 1) I.fail(what + " must hold one value, got " + std::to_string(t.data.size()));
    return t.data[0];
}

std::int64_t normAxis(const Importer& I, std::int64_t axis, std::int64_t rank, const std::string& what) {
    if (!normalizeAxis(axis, rank)) I.fail(what + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    return axis;
}

IntTensor intGather(const Importer& I, const IntTensor& data, const Ints& indices, const Shape& indexShape, std::int64_t axis) {
    if (data.shape.empty()) I.fail("cannot gather from a scalar");
    axis = normAxis(I, axis, std::int64_t(data.shape.size()), "axis");
    const std::int64_t dim = data.shape[std::size_t(axis)];
    std::int64_t outer = 1, inner = 1;
    for (std::int64_t d = 0; d < axis; ++d) outer *= data.shape[std::size_t(d)];
    for (auto d = std::size_t(axis) + 1; d < data.shape.size(); ++d) inner *= data.shape[d];
    IntTensor r;
    r.shape.assign(data.shape.begin(), data.shape.begin() + axis);
    r.shape.insert(r.shape.end(), indexShape.begin(), indexShape.end());
    r.shape.insert(r.shape.end(), data.shape.begin() + axis + 1, data.shape.end());
    if (numel(r.shape) > kMaxIntResult) I.fail("integer result too large");
    for (std::int64_t o = 0; o < outer; ++o)
        for (std::int64_t idx : indices) {
            if (idx < -dim || idx >= dim) I.fail("index " + std::to_string(idx) + " is out of range for a dimension of " + std::to_string(dim));
            if (idx < 0) idx += dim;
            for (std::int64_t in = 0; in < inner; ++in) r.data.push_back(data.data[std::size_t((o * dim + idx) * inner + in)]);
        }
    return r;
}

/// ONNX Slice's clamping of one axis: the indices taken, in order.
Ints sliceIndices(std::int64_t start, std::int64_t end, std::int64_t step, std::int64_t dim) {
    Ints r;
    if (step > 0) {
        if (start < 0) start = std::max<std::int64_t>(start + dim, 0);
        if (end < 0) end = std::max<std::int64_t>(end + dim, 0);
        start = std::min(start, dim);
        end = std::min(end, dim);
        for (std::int64_t i = start; i < end; i += step) r.push_back(i);
    } else {
        if (start < 0) start = std::max<std::int64_t>(start + dim, -1);
        if (end < 0) end = std::max<std::int64_t>(end + dim, -1);
        start = std::min(start, dim - 1);
        end = std::min(end, dim - 1);
        for (std::int64_t i = start; i > end; i += step) r.push_back(i);
    }
    return r;
}

/// Resolves a Reshape target (ONNX: 0 copies the input dimension, -1 is inferred).
Shape reshapeTarget(const Importer& I, const Shape& in, const Ints& target, bool allowZero) {
    Shape out;
    std::int64_t known = 1;
    int infer = -1;
    for (std::size_t i = 0; i < target.size(); ++i) {
        std::int64_t d = target[i];
        if (d == 0 && !allowZero) {
            if (i >= in.size()) I.fail("shape entry 0 at position " + std::to_string(i) + " has no input dimension to copy");
            d = in[i];
        }
        if (d == -1) {
            if (infer >= 0) I.fail("the shape has more than one -1");
            infer = int(i);
            out.push_back(1);
            continue;
        }
        if (d < 0 || d > kMaxElements) I.fail("shape entry " + std::to_string(d) + " is invalid");
        out.push_back(d);
        known *= d;
    }
    if (infer >= 0) {
        if (known == 0 || numel(in) % known) I.fail("cannot reshape " + shapeToString(in) + " to the given shape");
        out[std::size_t(infer)] = numel(in) / known;
    } else if (known != numel(in)) {
        I.fail("cannot reshape " + shapeToString(in) + " to " + shapeToString(out));
    }
    return out;
}

IntTensor intSlice(const Importer& I, const IntTensor& x, const Ints& starts, const Ints& ends, const Ints& axesIn, const Ints& steps) {
    const auto rank = std::int64_t(x.shape.size());
    std::vector<Ints> pick(x.shape.size());
    for (std::size_t d = 0; d < x.shape.size(); ++d) {
        pick[d].resize(std::size_t(x.shape[d]));
        std::iota(pick[d].begin(), pick[d].end(), 0);
    }
    for (std::size_t i = 0; i < starts.size(); ++i) {
        const std::int64_t axis = normAxis(I, axesIn[i], rank, "slice axis");
        if (steps[i] == 0) I.fail("slice step 0");
        pick[std::size_t(axis)] = sliceIndices(starts[i], ends[i], steps[i], x.shape[std::size_t(axis)]);
    }
    IntTensor r;
    for (const auto& p : pick) r.shape.push_back(std::int64_t(p.size()));
    const Strides st = contiguousStrides(x.shape);
    for (std::int64_t i = 0; i < numel(r.shape); ++i) {
        std::int64_t rem = i, src = 0;
        for (auto d = std::int64_t(r.shape.size()) - 1; d >= 0; --d) {
            const std::int64_t idx = rem % r.shape[std::size_t(d)];
            rem /= r.shape[std::size_t(d)];
            src += pick[std::size_t(d)][std::size_t(idx)] * st[std::size_t(d)];
        }
        r.data.push_back(x.data[std::size_t(src)]);
    }
    return r;
}

IntTensor intConcat(const Importer& I, const std::vector<const IntTensor*>& ins, std::int64_t axis) {
    const Shape& s0 = ins[0]->shape;
    if (s0.empty()) I.fail("cannot concatenate scalars");
    axis = normAxis(I, axis, std::int64_t(s0.size()), "axis");
    IntTensor r;
    r.shape = s0;
    r.shape[std::size_t(axis)] = 0;
    std::int64_t outer = 1;
    for (std::int64_t d = 0; d < axis; ++d) outer *= s0[std::size_t(d)];
    for (const auto* t : ins) {
        if (t->shape.size() != s0.size()) I.fail("integer inputs of different ranks");
        for (std::size_t d = 0; d < s0.size(); ++d)
            if (std::int64_t(d) != axis && t->shape[d] != s0[d]) I.fail("integer inputs' shapes do not match outside the axis");
        r.shape[std::size_t(axis)] += t->shape[std::size_t(axis)];
    }
    for (std::int64_t o = 0; o < outer; ++o)
        for (const auto* t : ins) {
            const std::int64_t chunk = std::int64_t(t->data.size()) / std::max<std::int64_t>(outer, 1);
            for (std::int64_t k = 0; k < chunk; ++k) r.data.push_back(t->data[std::size_t(o * chunk + k)]);
        }
    return r;
}

Shape unsqueezedShape(const Importer& I, const Shape& s, Ints axes) {
    const auto outRank = std::int64_t(s.size() + axes.size());
    for (auto& a : axes) a = normAxis(I, a, outRank, "unsqueeze axis");
    Shape out;
    std::size_t k = 0;
    for (std::int64_t i = 0; i < outRank; ++i) out.push_back(std::count(axes.begin(), axes.end(), i) ? 1 : s[k++]);
    return out;
}

IntTensor intTranspose(const Importer& I, const IntTensor& x, std::optional<Ints> perm) {
    const auto rank = std::int64_t(x.shape.size());
    if (!perm) {
        perm = Ints();
        for (auto d = rank - 1; d >= 0; --d) perm->push_back(d);
    }
    if (std::int64_t(perm->size()) != rank) I.fail("perm has " + std::to_string(perm->size()) + " entries for rank " + std::to_string(rank));
    Ints seen(std::size_t(rank), 0);
    for (auto& p : *perm) {
        p = normAxis(I, p, rank, "perm axis");
        if (seen[std::size_t(p)]++) I.fail("perm axes repeat");
    }
    IntTensor r;
    for (auto p : *perm) r.shape.push_back(x.shape[std::size_t(p)]);
    const Strides st = contiguousStrides(x.shape);
    for (std::int64_t i = 0; i < numel(r.shape); ++i) {
        std::int64_t rem = i, src = 0;
        for (auto d = rank - 1; d >= 0; --d) {
            const std::int64_t idx = rem % r.shape[std::size_t(d)];
            rem /= r.shape[std::size_t(d)];
            src += idx * st[std::size_t((*perm)[std::size_t(d)])];
        }
        r.data.push_back(x.data[std::size_t(src)]);
    }
    return r;
}

}  // namespace adj::onnx_io::ops
