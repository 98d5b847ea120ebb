// One handler per ONNX op (default domain): float values become nodes of the op table, integer
// tensors (shapes, axes, indices) are evaluated here. docs/ONNX.md describes each mapping.
#include <algorithm>
#include <climits>
#include <cmath>
#include <numeric>

#include "base/errors.h"
#include "io/onnx_importer.h"

namespace adj::onnx_io {

namespace {

using Kind = Value::Kind;
using Ints = std::vector<std::int64_t>;

constexpr std::int64_t kMaxIntResult = std::int64_t(1) << 16;
/// Largest float constant that ConstantOfShape may create (64 MiB).
constexpr std::int64_t kMaxConstantOfShape = std::int64_t(1) << 24;

// ---------------------------------------------------------------- integer tensors

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
            case '<': z = x < y; break;
            case '>': z = x > y; break;
            case '=': z = x == y; break;
            case 'l': z = x <= y; break;
            case 'g': z = x >= y; break;
            case 'm': z = std::min(x, y); break;
            case 'M': z = std::max(x, y); break;
            case '&': z = (x != 0) && (y != 0); break;
            case '|': z = (x != 0) || (y != 0); break;
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

template <class F>
IntTensor intBroadcast(const Importer& I, const std::vector<const IntTensor*>& ins, F f) {
    Shape out = ins[0]->shape;
    for (std::size_t k = 1; k < ins.size(); ++k) {
        Shape next;
        if (!broadcastShapes(out, ins[k]->shape, next)) I.fail("integer inputs of shapes " + shapeToString(out) + " and " + shapeToString(ins[k]->shape) + " do not broadcast");
        out = next;
    }
    if (numel(out) > kMaxIntResult) I.fail("integer result too large");
    IntTensor r;
    r.shape = out;
    std::vector<Sym> args(ins.size());
    for (std::int64_t i = 0; i < numel(out); ++i) {
        for (std::size_t k = 0; k < ins.size(); ++k) args[k] = ins[k]->data[std::size_t(broadcastSource(i, out, ins[k]->shape))];
        r.data.push_back(f(args));
    }
    return r;
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

// ---------------------------------------------------------------- helpers for float ops

Ints intsOr(const std::optional<Ints>& v, Ints def) { return v ? *v : std::move(def); }

std::vector<Sym> symDims(Importer& I, ValueRef v) { return I.symShape(v); }

/// pads for Conv and the pools, from pads / auto_pad (SAME_* needs constant spatial sizes).
Ints spatialPads(Importer& I, ValueRef x, const Ints& kernel, const Ints& strides, const Ints& dilations) {
    const std::string autoPad = I.attrString("auto_pad", "NOTSET");
    if (autoPad == "NOTSET" || autoPad.empty()) {
        Ints pads = intsOr(I.attrInts("pads"), {0, 0, 0, 0});
        if (pads.size() != 4) I.fail("pads must have 4 values for a 2-D op, got " + std::to_string(pads.size()));
        for (auto p : pads)
            if (p < 0) I.fail("negative pads are not supported");
        return pads;
    }
    if (I.attr("pads")) I.fail("pads and auto_pad " + autoPad + " are both given");
    if (autoPad == "VALID") return {0, 0, 0, 0};
    if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER") I.fail("auto_pad '" + autoPad + "' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
    const auto dims = symDims(I, x);
    Ints begin(2), end(2);
    for (std::size_t a = 0; a < 2; ++a) {
        const Sym& d = dims[2 + a];
        if (!symIsConst(d)) I.fail("auto_pad " + autoPad + " on a dynamic spatial dimension is not supported");
        const std::int64_t in = d[0], s = strides[a];
        const std::int64_t outSize = (in + s - 1) / s;
        const std::int64_t total = std::max<std::int64_t>(0, (outSize - 1) * s + (kernel[a] - 1) * dilations[a] + 1 - in);
        begin[a] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
        end[a] = total - begin[a];
    }
    return {begin[0], begin[1], end[0], end[1]};
}

Ints twoValues(Importer& I, const std::string& name, Ints def) {
    Ints v = intsOr(I.attrInts(name), std::move(def));
    if (v.size() != 2) I.fail("attribute '" + name + "' must have 2 values for a 2-D op, got " + std::to_string(v.size()));
    return v;
}

ValueRef fourD(Importer& I, int i, const std::string& what) {
    ValueRef x = I.fin(i);
    if (I.shapeOf(x).size() != 4) I.fail("only 2-D " + what + " (4-D NCHW input) is supported; the input has shape " + shapeToString(I.shapeOf(x)));
    return x;
}

// ---------------------------------------------------------------- handlers

void elementwise(Importer& I, Op op, char intOp) {
    if (I.isInts(0) && I.isInts(1) && intOp) {
        const IntTensor& a = I.value(0).ints;
        const IntTensor& b = I.value(1).ints;
        I.bindInts(I.out(), intBroadcast(I, {&a, &b}, [&](const std::vector<Sym>& v) { return symOp(I, v[0], v[1], intOp); }));
        return;
    }
    ValueRef a = I.fin(0), b = I.fin(1);
    I.bindFloat(I.out(), I.emit(op, {a, b}, {}, I.out()));
}

void unary(Importer& I, Op op) {
    if (I.isInts(0) && (op == Op::Neg || op == Op::Abs || op == Op::Sign)) {
        I.bindInts(I.out(), intMap(I.value(0).ints, [op](std::int64_t v) -> std::int64_t {
                       if (op == Op::Neg) return -v;
                       if (op == Op::Abs) return v < 0 ? -v : v;
                       return (v > 0) - (v < 0);
                   }));
        return;
    }
    I.bindFloat(I.out(), I.emit(op, {I.fin(0)}, {}, I.out()));
}

void variadic(Importer& I, Op op, char intOp) {
    if (I.numInputs() < 1) I.fail("needs at least one input");
    if (I.numInputs() == 1) {
        I.bindValue(I.out(), I.value(0));
        return;
    }
    bool allInts = true;
    for (int i = 0; i < I.numInputs(); ++i) allInts = allInts && I.isInts(i);
    if (allInts && intOp) {
        std::vector<const IntTensor*> ins;
        for (int i = 0; i < I.numInputs(); ++i) ins.push_back(&I.value(i).ints);
        I.bindInts(I.out(), intBroadcast(I, ins, [&](const std::vector<Sym>& v) {
                       Sym acc = v[0];
                       for (std::size_t k = 1; k < v.size(); ++k) acc = symOp(I, acc, v[k], intOp);
                       return acc;
                   }));
        return;
    }
    ValueRef acc = I.fin(0);
    for (int i = 1; i < I.numInputs(); ++i)
        acc = I.emit(op, {acc, I.fin(i)}, {}, i + 1 == I.numInputs() ? I.out() : I.out() + "/" + std::to_string(i));
    I.bindFloat(I.out(), acc);
}

void compare(Importer& I, char kind) {
    // kind: '>' Greater, '<' Less, '=' Equal, 'g' GreaterOrEqual, 'l' LessOrEqual
    if (I.isInts(0) && I.isInts(1)) {
        const IntTensor& a = I.value(0).ints;
        const IntTensor& b = I.value(1).ints;
        I.bindInts(I.out(), intBroadcast(I, {&a, &b}, [&](const std::vector<Sym>& v) { return symOp(I, v[0], v[1], kind); }));
        return;
    }
    ValueRef a = I.fin(0), b = I.fin(1), r;
    switch (kind) {
        case '>': r = I.emit(Op::Greater, {a, b}, {}, I.out()); break;
        case '<': r = I.emit(Op::Greater, {b, a}, {}, I.out()); break;
        case '=': r = I.emit(Op::Equal, {a, b}, {}, I.out()); break;
        default: {
            // a >= b is not (b > a); a <= b is not (a > b)
            ValueRef gt = kind == 'g' ? I.emit(Op::Greater, {b, a}, {}, I.out() + "/greater") : I.emit(Op::Greater, {a, b}, {}, I.out() + "/greater");
            r = I.emit(Op::Sub, {I.constantNode(Tensor::scalar(1.f), I.out() + "/one"), gt}, {}, I.out());
        }
    }
    I.bindFloat(I.out(), r, true);
}

void logical(Importer& I, char kind) {
    // 'n' Not, '&' And, '|' Or
    if (kind == 'n') {
        if (I.isInts(0)) {
            I.bindInts(I.out(), intMap(I.value(0).ints, [](std::int64_t v) -> std::int64_t { return v == 0; }));
            return;
        }
        ValueRef x = I.fin(0);
        I.bindFloat(I.out(), I.emit(Op::Sub, {I.constantNode(Tensor::scalar(1.f), I.out() + "/one"), x}, {}, I.out()), true);
        return;
    }
    if (I.isInts(0) && I.isInts(1)) {
        const IntTensor& a = I.value(0).ints;
        const IntTensor& b = I.value(1).ints;
        I.bindInts(I.out(), intBroadcast(I, {&a, &b}, [&](const std::vector<Sym>& v) { return symOp(I, v[0], v[1], kind); }));
        return;
    }
    ValueRef a = I.fin(0), b = I.fin(1);
    I.bindFloat(I.out(), I.emit(kind == '&' ? Op::Mul : Op::Maximum, {a, b}, {}, I.out()), true);
}

void where(Importer& I) {
    if (I.isInts(0) && I.isInts(1) && I.isInts(2)) {
        const IntTensor& c = I.value(0).ints;
        const IntTensor& a = I.value(1).ints;
        const IntTensor& b = I.value(2).ints;
        I.bindInts(I.out(), intBroadcast(I, {&c, &a, &b}, [](const std::vector<Sym>& v) {
                       Sym r;
                       for (std::size_t k = 0; k < 3; ++k) r[k] = v[0][k] ? v[1][k] : v[2][k];
                       return r;
                   }));
        return;
    }
    ValueRef c = I.finRaw(0), a = I.fin(1), b = I.fin(2);
    I.bindFloat(I.out(), I.emit(Op::Where, {c, a, b}, {}, I.out()));
}

void identity(Importer& I) { I.bindValue(I.out(), I.value(0)); }

void dropout(Importer& I) {
    I.requireUnused(1, "the mask");
    if (I.has(2) && I.constScalar(2, "training_mode") != 0) I.fail("training-mode Dropout is not supported (export the model in eval mode)");
    identity(I);
}

void constant(Importer& I) {
    const auto& n = I.node();
    if (n.attribute_size() != 1) I.fail("must have exactly one value attribute");
    const auto& a = n.attribute(0);
    const std::string what = I.out();
    if (a.name() == "value") {
        if (!a.has_t()) I.fail("attribute 'value' must be a TENSOR");
        const auto& t = a.t();
        if (isFloatType(t.data_type())) {
            I.bindPending(I.out(), readFloatTensor(t, "Constant '" + what + "'"));
        } else if (isIntegerType(t.data_type())) {
            IntTensor r;
            r.shape = checkTensorData(t, "Constant '" + what + "'");
            for (auto v : readIntTensor(t, "Constant '" + what + "'", kMaxIntResult)) r.data.push_back(symConst(v));
            I.bindInts(I.out(), std::move(r));
        } else {
            I.fail("a constant of type " + dataTypeName(t.data_type()) + " is not supported");
        }
    } else if (a.name() == "value_float") {
        I.bindPending(I.out(), Tensor::scalar(float(I.attrFloat("value_float", 0))));
    } else if (a.name() == "value_floats") {
        std::vector<float> f(a.floats().begin(), a.floats().end());
        I.bindPending(I.out(), Tensor::fromVector({std::int64_t(f.size())}, f));
    } else if (a.name() == "value_int") {
        I.bindInts(I.out(), IntTensor{{}, {symConst(I.attrInt("value_int", 0))}});
    } else if (a.name() == "value_ints") {
        IntTensor r;
        for (auto v : a.ints()) r.data.push_back(symConst(v));
        r.shape = {std::int64_t(r.data.size())};
        I.bindInts(I.out(), std::move(r));
    } else {
        I.fail("attribute '" + a.name() + "' (sparse or string constants) is not supported");
    }
}

void constantOfShape(Importer& I) {
    const Ints shape = I.constInts(0, "the shape");
    for (auto d : shape)
        if (d < 0) I.fail("negative dimension " + std::to_string(d));
    if (!shapeIsSane(shape)) I.fail("shape " + shapeToString(shape) + " is too large");
    const auto* a = I.attr("value");
    int type = onnx::TensorProto::FLOAT;
    double fv = 0;
    std::int64_t iv = 0;
    if (a) {
        if (!a->has_t()) I.fail("attribute 'value' must be a TENSOR");
        type = a->t().data_type();
        if (isFloatType(type)) {
            Tensor t = readFloatTensor(a->t(), "attribute 'value'");
            if (t.numel() != 1) I.fail("attribute 'value' must hold one value");
            fv = t.flatAt(0);
        } else if (isIntegerType(type)) {
            auto v = readIntTensor(a->t(), "attribute 'value'", 1);
            if (v.size() != 1) I.fail("attribute 'value' must hold one value");
            iv = v[0];
        } else {
            I.fail("attribute 'value' of type " + dataTypeName(type) + " is not supported");
        }
    }
    if (isFloatType(type)) {
        if (numel(shape) > kMaxConstantOfShape) I.fail("a constant of " + std::to_string(numel(shape)) + " elements is too large");
        I.bindPending(I.out(), Tensor::full(shape, float(fv)));
    } else {
        if (numel(shape) > kMaxIntResult) I.fail("integer result too large");
        I.bindInts(I.out(), IntTensor{shape, std::vector<Sym>(std::size_t(numel(shape)), symConst(iv))});
    }
}

void range(Importer& I) {
    if (!I.isInts(0) || !I.isInts(1) || !I.isInts(2)) I.fail("Range is supported on constant integer inputs only");
    const Sym s = symScalar(I, I.value(0).ints, "start"), l = symScalar(I, I.value(1).ints, "limit"), d = symScalar(I, I.value(2).ints, "delta");
    if (!symIsConst(s) || !symIsConst(l) || !symIsConst(d)) I.fail("a Range that depends on a dynamic dimension is not supported");
    if (d[0] == 0) I.fail("delta is 0");
    const double count = std::ceil((double(l[0]) - double(s[0])) / double(d[0]));
    if (count > double(kMaxIntResult)) I.fail("Range of " + std::to_string(count) + " elements is too large");
    IntTensor r;
    for (std::int64_t i = 0; i < std::int64_t(std::max(count, 0.0)); ++i) r.data.push_back(symConst(s[0] + i * d[0]));
    r.shape = {std::int64_t(r.data.size())};
    I.bindInts(I.out(), std::move(r));
}

void shapeOp(Importer& I) {
    std::vector<Sym> dims;
    if (I.isInts(0)) {
        for (auto d : I.value(0).ints.shape) dims.push_back(symConst(d));
    } else {
        dims = I.symShape(I.finRaw(0));
    }
    const auto r = std::int64_t(dims.size());
    std::int64_t start = I.attrInt("start", 0), end = I.attrInt("end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<std::int64_t>(start, 0, r);
    end = std::clamp<std::int64_t>(end, 0, r);
    IntTensor t;
    for (std::int64_t i = start; i < end; ++i) t.data.push_back(dims[std::size_t(i)]);
    t.shape = {std::int64_t(t.data.size())};
    I.bindInts(I.out(), std::move(t));
}

void sizeOp(Importer& I) {
    Sym n = symConst(1);
    if (I.isInts(0)) n = symConst(numel(I.value(0).ints.shape));
    else
        for (const Sym& d : I.symShape(I.finRaw(0))) n = symOp(I, n, d, '*');
    I.bindInts(I.out(), IntTensor{{}, {n}});
}

void cast(Importer& I) {
    const auto* a = I.attr("to");
    if (!a) I.fail("attribute 'to' is missing");
    const auto to = int(I.attrInt("to", 0));
    using T = onnx::TensorProto;
    const bool toFloat = to == T::FLOAT || to == T::DOUBLE || to == T::FLOAT16 || to == T::BFLOAT16;
    const bool toBool = to == T::BOOL;
    if (!toFloat && !isIntegerType(to)) I.fail("Cast to " + dataTypeName(to) + " is not supported");
    const Value& v = I.value(0);
    if (v.kind == Kind::Ints) {
        if (toFloat) {
            if (!v.ints.allConst()) I.fail("Cast to float of an integer tensor that depends on a dynamic dimension (" + I.dynamicNote() + ") is not supported");
            std::vector<float> f;
            for (auto x : v.ints.values()) f.push_back(float(x));
            I.bindPending(I.out(), Tensor::fromVector(v.ints.shape, f));
        } else {
            I.bindInts(I.out(), toBool ? intMap(v.ints, [](std::int64_t x) -> std::int64_t { return x != 0; }) : v.ints);
        }
        return;
    }
    if (toFloat) {
        if (v.kind == Kind::PendingConstant) I.bindValue(I.out(), v);
        else I.bindFloat(I.out(), I.fin(0));
        return;
    }
    if (toBool) {
        if (v.kind == Kind::Float && v.isBool) {
            I.bindValue(I.out(), v);
            return;
        }
        Value b;
        b.kind = Kind::Float;
        b.ref = I.finRaw(0);
        b.isBool = true;
        b.normalized = false;
        I.bindValue(I.out(), b);
        return;
    }
    // float -> integer: only known constants (truncated toward zero, as ONNX's Cast).
    const Tensor* t = nullptr;
    if (v.kind == Kind::PendingConstant) t = &v.constant;
    else if (I.graph().node(v.ref.node).op == Op::Constant) t = &I.graph().node(v.ref.node).value;
    if (!t) I.fail("Cast of a computed float value to " + dataTypeName(to) + " is not supported (integer tensors must be known while importing)");
    if (t->numel() > kMaxIntResult) I.fail("integer result too large");
    IntTensor r;
    r.shape = t->shape();
    for (float f : t->toVector()) {
        if (!(std::fabs(f) < 9.0e18f)) I.fail("Cast of a non-finite or huge value to an integer");
        r.data.push_back(symConst(std::int64_t(std::trunc(f))));
    }
    I.bindInts(I.out(), std::move(r));
}

void gemm(Importer& I) {
    std::vector<ValueRef> ins{I.fin(0), I.fin(1)};
    if (I.has(2)) ins.push_back(I.fin(2));
    Attributes at;
    if (I.attr("alpha")) at.set("alpha", I.attrFloat("alpha", 1));
    if (I.attr("beta")) at.set("beta", I.attrFloat("beta", 1));
    if (I.attr("transA")) at.set("transA", std::int64_t(I.attrInt("transA", 0) != 0));
    if (I.attr("transB")) at.set("transB", std::int64_t(I.attrInt("transB", 0) != 0));
    I.bindFloat(I.out(), I.emit(Op::Gemm, ins, at, I.out()));
}

void softmax(Importer& I, Op op) {
    ValueRef x = I.fin(0);
    const auto rank = std::int64_t(I.shapeOf(x).size());
    if (rank == 0) I.fail("input must have rank >= 1");
    if (I.opset() >= 13) {
        I.bindFloat(I.out(), I.emit(op, {x}, {{"axis", I.attrInt("axis", -1)}}, I.out()));
        return;
    }
    // Opsets 11 and 12: the input is coerced to 2-D at axis (default 1), the op runs on the rows.
    const std::int64_t axis = normAxis(I, I.attrInt("axis", 1), rank, "axis");
    if (axis == rank - 1) {
        I.bindFloat(I.out(), I.emit(op, {x}, {{"axis", std::int64_t(-1)}}, I.out()));
        return;
    }
    ValueRef flat = I.emit(Op::Flatten, {x}, {{"axis", axis}}, I.out() + "/flatten");
    ValueRef y = I.emit(op, {flat}, {{"axis", std::int64_t(-1)}}, I.out() + "/rows");
    Ints target;
    int dynamic = 0;
    for (const Sym& d : I.symShape(x)) {
        dynamic += !symIsConst(d);
        target.push_back(symIsConst(d) ? d[0] : -1);
    }
    if (dynamic > 1) I.fail("opset " + std::to_string(I.opset()) + " Softmax over several axes of an input with more than one dynamic dimension is not supported");
    I.bindFloat(I.out(), I.emit(Op::Reshape, {y}, {{"shape", target}}, I.out()));
}

void reduce(Importer& I, Op op) {
    // ReduceSum reads axes from an input from opset 13 on; ReduceMean and ReduceMax from 18 on.
    const std::int64_t inputSince = I.node().op_type() == "ReduceSum" ? 13 : 18;
    const auto axes = I.axesOf(1, inputSince);
    const std::int64_t keep = I.attrInt("keepdims", 1) != 0;
    const bool noop = I.attrInt("noop_with_empty_axes", 0) != 0;
    ValueRef x = I.fin(0);
    if ((!axes || axes->empty()) && noop) {
        I.bindFloat(I.out(), x);
        return;
    }
    Attributes at{{"keepdims", keep}};
    if (axes && !axes->empty()) at.set("axes", *axes);
    I.bindFloat(I.out(), I.emit(op, {x}, at, I.out()));
}

void reshape(Importer& I) {
    const IntTensor& target = I.iin(1, "the shape");
    if (target.shape.size() != 1) I.fail("the shape must be a 1-D tensor, got shape " + shapeToString(target.shape));
    const bool allowZero = I.attrInt("allowzero", 0) != 0;
    if (I.isInts(0)) {
        if (!target.allConst()) I.fail("reshaping an integer tensor to a dynamic shape is not supported");
        IntTensor r = I.value(0).ints;
        r.shape = reshapeTarget(I, r.shape, target.values(), allowZero);
        I.bindInts(I.out(), std::move(r));
        return;
    }
    ValueRef x = I.fin(0);
    const std::vector<Sym> xs = I.symShape(x);
    Ints out;
    int unknown = 0;
    bool minusOne = false;
    for (std::size_t i = 0; i < target.data.size(); ++i) {
        const Sym& s = target.data[i];
        if (symIsConst(s)) {
            if (s[0] == 0 && allowZero) I.fail("allowzero=1 with a 0 in the shape is not supported");
            minusOne = minusOne || s[0] == -1;
            out.push_back(s[0]);
        } else if (i < xs.size() && xs[i] == s) {
            out.push_back(0);  // copies the input's (dynamic) dimension
        } else {
            out.push_back(-2);
            ++unknown;
        }
    }
    if (unknown) {
        if (unknown > 1 || minusOne)
            I.fail("the target shape depends on dynamic dimensions (" + I.dynamicNote() + ") in a way that a fixed shape with 0 and -1 cannot express");
        std::replace(out.begin(), out.end(), std::int64_t(-2), std::int64_t(-1));
    }
    I.bindFloat(I.out(), I.emit(Op::Reshape, {x}, {{"shape", out}}, I.out()));
}

void expand(Importer& I) {
    const IntTensor& target = I.iin(1, "the shape");
    if (target.shape.size() != 1) I.fail("the shape must be a 1-D tensor");
    if (I.isInts(0)) {
        if (!target.allConst()) I.fail("expanding an integer tensor to a dynamic shape is not supported");
        Ints t = target.values();
        for (auto d : t)
            if (d < 0) I.fail("negative dimension in the shape");
        IntTensor shapeOnly{Shape(t.begin(), t.end()), std::vector<Sym>(std::size_t(numel(t)), symConst(0))};
        if (numel(t) > kMaxIntResult) I.fail("integer result too large");
        const IntTensor& x = I.value(0).ints;
        I.bindInts(I.out(), intBroadcast(I, {&x, &shapeOnly}, [](const std::vector<Sym>& v) { return v[0]; }));
        return;
    }
    ValueRef x = I.fin(0);
    const std::vector<Sym> xs = I.symShape(x);
    const auto n = std::int64_t(target.data.size()), offset = n - std::int64_t(xs.size());
    Ints out;
    for (std::int64_t i = 0; i < n; ++i) {
        const Sym& s = target.data[std::size_t(i)];
        const std::int64_t j = i - offset;
        if (symIsConst(s)) out.push_back(s[0]);
        else if (j >= 0 && xs[std::size_t(j)] == s) out.push_back(1);  // keeps the input's dimension
        else I.fail("the target shape depends on a dynamic dimension (" + I.dynamicNote() + ") that the input does not have");
    }
    I.bindFloat(I.out(), I.emit(Op::Expand, {x}, {{"shape", out}}, I.out()));
}

void flatten(Importer& I) { I.bindFloat(I.out(), I.emit(Op::Flatten, {I.fin(0)}, {{"axis", I.attrInt("axis", 1)}}, I.out())); }

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

void transpose(Importer& I) {
    if (I.isInts(0)) {
        I.bindInts(I.out(), intTranspose(I, I.value(0).ints, I.attrInts("perm")));
        return;
    }
    Attributes at;
    if (auto perm = I.attrInts("perm")) at.set("perm", *perm);
    I.bindFloat(I.out(), I.emit(Op::Transpose, {I.fin(0)}, at, I.out()));
}

void squeeze(Importer& I) {
    auto axes = I.axesOf(1, 13);
    if (I.isInts(0)) {
        IntTensor r = I.value(0).ints;
        Shape s;
        const auto rank = std::int64_t(r.shape.size());
        Ints norm;
        if (axes)
            for (auto a : *axes) norm.push_back(normAxis(I, a, rank, "squeeze axis"));
        for (std::int64_t d = 0; d < rank; ++d) {
            const bool drop = axes ? std::count(norm.begin(), norm.end(), d) != 0 : r.shape[std::size_t(d)] == 1;
            if (drop && r.shape[std::size_t(d)] != 1) I.fail("cannot squeeze axis " + std::to_string(d) + " of size " + std::to_string(r.shape[std::size_t(d)]));
            if (!drop) s.push_back(r.shape[std::size_t(d)]);
        }
        r.shape = s;
        I.bindInts(I.out(), std::move(r));
        return;
    }
    ValueRef x = I.fin(0);
    if (!axes) {
        // Squeeze every dimension of size 1 that is not dynamic (a dynamic one is 1 by default only).
        Ints found;
        const auto dims = I.symShape(x);
        for (std::size_t d = 0; d < dims.size(); ++d)
            if (dims[d] == symConst(1)) found.push_back(std::int64_t(d));
        axes = found;
    }
    I.bindFloat(I.out(), I.emit(Op::Squeeze, {x}, {{"axes", *axes}}, I.out()));
}

void unsqueeze(Importer& I) {
    auto axes = I.axesOf(1, 13);
    if (!axes) I.fail("axes are missing");
    if (I.isInts(0)) {
        IntTensor r = I.value(0).ints;
        r.shape = unsqueezedShape(I, r.shape, *axes);
        I.bindInts(I.out(), std::move(r));
        return;
    }
    I.bindFloat(I.out(), I.emit(Op::Unsqueeze, {I.fin(0)}, {{"axes", *axes}}, I.out()));
}

void concat(Importer& I) {
    if (!I.attr("axis")) I.fail("attribute 'axis' is missing");
    const std::int64_t axis = I.attrInt("axis", 0);
    bool allInts = I.numInputs() > 0;
    for (int i = 0; i < I.numInputs(); ++i) allInts = allInts && I.has(i) && I.isInts(i);
    if (allInts) {
        std::vector<const IntTensor*> ins;
        for (int i = 0; i < I.numInputs(); ++i) ins.push_back(&I.value(i).ints);
        I.bindInts(I.out(), intConcat(I, ins, axis));
        return;
    }
    std::vector<ValueRef> ins;
    for (int i = 0; i < I.numInputs(); ++i)
        if (I.has(i)) ins.push_back(I.fin(i));
    I.bindFloat(I.out(), I.emit(Op::Concat, ins, {{"axis", axis}}, I.out()));
}

void split(Importer& I) {
    ValueRef x = I.fin(0);
    const std::int64_t axisAttr = I.attrInt("axis", 0);
    const auto& s = I.shapeOf(x);
    const std::int64_t axis = normAxis(I, axisAttr, std::int64_t(s.size()), "axis");
    std::optional<Ints> sizes;
    if (I.opset() >= 13) {
        if (I.attr("split")) I.fail("attribute 'split' is an input from opset 13 on");
        if (I.has(1)) sizes = I.constInts(1, "split");
    } else {
        sizes = I.attrInts("split");
    }
    const int outputs = I.node().output_size();
    if (outputs < 1) I.fail("has no outputs");
    if (!sizes) {
        const Sym d = I.symShape(x)[std::size_t(axis)];
        if (!symIsConst(d)) I.fail("an equal split of a dynamic dimension is not supported");
        if (d[0] % outputs) I.fail("axis " + std::to_string(axis) + " of size " + std::to_string(d[0]) + " does not split into " + std::to_string(outputs) + " equal parts");
        sizes = Ints(std::size_t(outputs), d[0] / outputs);
    }
    if (std::int64_t(sizes->size()) != outputs) I.fail("split has " + std::to_string(sizes->size()) + " sizes for " + std::to_string(outputs) + " outputs");
    const std::string stem = !I.node().name().empty() ? I.node().name() : I.out(0);
    NodeId id = I.emitNode(Op::Split, {x}, {{"axis", axis}, {"sizes", *sizes}}, stem);
    for (int k = 0; k < outputs; ++k) I.bindFloat(I.node().output(k), {id, k});
}

void slice(Importer& I) {
    const IntTensor& starts = I.iin(1, "starts");
    const IntTensor& ends = I.iin(2, "ends");
    if (starts.shape.size() != 1 || ends.shape.size() != 1 || starts.data.size() != ends.data.size()) I.fail("starts and ends must be 1-D of the same length");
    const std::size_t n = starts.data.size();
    Ints axes, steps(n, 1);
    if (I.has(3)) axes = I.constInts(3, "axes");
    else
        for (std::size_t i = 0; i < n; ++i) axes.push_back(std::int64_t(i));
    if (I.has(4)) steps = I.constInts(4, "steps");
    if (axes.size() != n || steps.size() != n) I.fail("starts, ends, axes and steps must have the same length");
    if (I.isInts(0)) {
        if (!starts.allConst() || !ends.allConst()) I.fail("slicing an integer tensor at dynamic positions is not supported");
        I.bindInts(I.out(), intSlice(I, I.value(0).ints, starts.values(), ends.values(), axes, steps));
        return;
    }
    ValueRef x = I.fin(0);
    const auto dims = I.symShape(x);
    Ints st, en;
    for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t axis = normAxis(I, axes[i], std::int64_t(dims.size()), "slice axis");
        if (steps[i] <= 0) I.fail("slice steps must be positive (reversing slices are not supported), got " + std::to_string(steps[i]));
        if (!symIsConst(starts.data[i])) I.fail("a slice start that depends on a dynamic dimension (" + I.dynamicNote() + ") is not supported");
        st.push_back(starts.data[i][0]);
        if (symIsConst(ends.data[i])) en.push_back(ends.data[i][0]);
        else if (ends.data[i] == dims[std::size_t(axis)]) en.push_back(INT64_MAX);  // to the end of the axis
        else I.fail("a slice end that depends on a dynamic dimension (" + I.dynamicNote() + ") is not supported");
    }
    Attributes at{{"starts", st}, {"ends", en}, {"axes", axes}};
    if (std::any_of(steps.begin(), steps.end(), [](std::int64_t v) { return v != 1; })) at.set("steps", steps);
    I.bindFloat(I.out(), I.emit(Op::Slice, {x}, at, I.out()));
}

void gather(Importer& I) {
    const std::int64_t axisAttr = I.attrInt("axis", 0);
    const IntTensor& idx = I.iin(1, "the indices");
    if (!idx.allConst()) I.fail("indices that depend on a dynamic dimension are not supported");
    if (I.isInts(0)) {
        I.bindInts(I.out(), intGather(I, I.value(0).ints, idx.values(), idx.shape, axisAttr));
        return;
    }
    ValueRef x = I.fin(0);
    const Shape& s = I.shapeOf(x);
    if (s.empty()) I.fail("cannot gather from a scalar");
    const std::int64_t axis = normAxis(I, axisAttr, std::int64_t(s.size()), "axis");
    const Sym dimSym = I.symShape(x)[std::size_t(axis)];
    if (!symIsConst(dimSym)) I.fail("gathering along a dynamic dimension is not supported");
    const std::int64_t dim = dimSym[0];
    if (idx.shape.size() > 1) I.fail("Gather with indices of rank " + std::to_string(idx.shape.size()) + " is not supported (a scalar or 1-D constant index is)");
    Ints v = idx.values();
    for (auto& i : v) {
        if (i < -dim || i >= dim) I.fail("index " + std::to_string(i) + " is out of range for axis " + std::to_string(axis) + " of size " + std::to_string(dim));
        if (i < 0) i += dim;
    }
    auto sliceOf = [&](std::int64_t b, std::int64_t e, const std::string& stem) {
        return I.emit(Op::Slice, {x}, {{"starts", Ints{b}}, {"ends", Ints{e}}, {"axes", Ints{axis}}}, stem);
    };
    if (idx.shape.empty()) {
        // A scalar index: slice [i, i+1) then squeeze the axis.
        ValueRef sl = sliceOf(v[0], v[0] + 1, I.out() + "/slice");
        I.bindFloat(I.out(), I.emit(Op::Squeeze, {sl}, {{"axes", Ints{axis}}}, I.out()));
        return;
    }
    if (v.empty()) I.fail("Gather with no indices is not supported");
    // 1-D: one slice per run of consecutive indices, concatenated.
    std::vector<std::pair<std::int64_t, std::int64_t>> runs;
    for (auto i : v) {
        if (!runs.empty() && runs.back().second == i) ++runs.back().second;
        else runs.push_back({i, i + 1});
    }
    if (runs.size() > 256) I.fail("Gather of " + std::to_string(v.size()) + " scattered indices is not supported");
    if (runs.size() == 1) {
        I.bindFloat(I.out(), sliceOf(runs[0].first, runs[0].second, I.out()));
        return;
    }
    std::vector<ValueRef> parts;
    for (std::size_t k = 0; k < runs.size(); ++k) parts.push_back(sliceOf(runs[k].first, runs[k].second, I.out() + "/slice_" + std::to_string(k)));
    I.bindFloat(I.out(), I.emit(Op::Concat, parts, {{"axis", axis}}, I.out()));
}

void pad(Importer& I) {
    const std::string mode = I.attrString("mode", "constant");
    if (mode != "constant") I.fail("mode '" + mode + "' is not supported (only constant padding)");
    if (I.has(3)) I.fail("the axes input is not supported");
    ValueRef x = I.fin(0);
    const Ints pads = I.constInts(1, "pads");
    if (pads.size() != 2 * I.shapeOf(x).size()) I.fail("pads has " + std::to_string(pads.size()) + " values for rank " + std::to_string(I.shapeOf(x).size()));
    for (auto p : pads)
        if (p < 0) I.fail("negative pads (cropping) are not supported");
    const double value = I.has(2) ? I.constScalar(2, "constant_value") : 0.0;
    I.bindFloat(I.out(), I.emit(Op::Pad, {x}, {{"pads", pads}, {"value", value}}, I.out()));
}

void clip(Importer& I) {
    ValueRef y = I.fin(0);
    if (I.has(1)) y = I.emit(Op::Maximum, {y, I.fin(1)}, {}, I.has(2) ? I.out() + "/min" : I.out());
    if (I.has(2)) y = I.emit(Op::Minimum, {y, I.fin(2)}, {}, I.out());
    if (!I.has(1) && !I.has(2)) {
        identity(I);
        return;
    }
    I.bindFloat(I.out(), y);
}

void reciprocal(Importer& I) {
    ValueRef x = I.fin(0);
    I.bindFloat(I.out(), I.emit(Op::Div, {I.constantNode(Tensor::scalar(1.f), I.out() + "/one"), x}, {}, I.out()));
}

void conv(Importer& I) {
    ValueRef x = fourD(I, 0, "convolution");
    ValueRef w = I.fin(1);
    const Shape& ws = I.shapeOf(w);
    if (ws.size() != 4) I.fail("the weight must be 4-D, got " + shapeToString(ws));
    const Ints kernel{ws[2], ws[3]};
    if (auto k = I.attrInts("kernel_shape"); k && *k != kernel) I.fail("kernel_shape " + attrValueToString(*k) + " does not match the weight " + shapeToString(ws));
    const Ints strides = twoValues(I, "strides", {1, 1}), dilations = twoValues(I, "dilations", {1, 1});
    const Ints pads = spatialPads(I, x, kernel, strides, dilations);
    std::vector<ValueRef> ins{x, w};
    if (I.has(2)) ins.push_back(I.fin(2));
    Attributes at{{"strides", strides}, {"pads", pads}, {"dilations", dilations}, {"group", I.attrInt("group", 1)}};
    I.bindFloat(I.out(), I.emit(Op::Conv2d, ins, at, I.out()));
}

void convTranspose(Importer& I) {
    // Read back as conv2d_grad_input, which the exporter writes as ConvTranspose.
    ValueRef g = fourD(I, 0, "transposed convolution");
    ValueRef w = I.fin(1);
    if (I.has(2)) I.fail("a bias is not supported");
    const Shape& ws = I.shapeOf(w);
    if (ws.size() != 4) I.fail("the weight must be 4-D, got " + shapeToString(ws));
    const Ints strides = twoValues(I, "strides", {1, 1}), dilations = twoValues(I, "dilations", {1, 1});
    const std::string autoPad = I.attrString("auto_pad", "NOTSET");
    if (autoPad != "NOTSET" && autoPad != "") I.fail("auto_pad is not supported");
    if (I.attr("output_shape")) I.fail("output_shape is not supported (give pads and output_padding)");
    Ints pads = intsOr(I.attrInts("pads"), {0, 0, 0, 0}), outPad = twoValues(I, "output_padding", {0, 0});
    if (pads.size() != 4) I.fail("pads must have 4 values");
    const std::int64_t group = I.attrInt("group", 1);
    const Shape& gs = I.shapeOf(g);
    if (group <= 0 || ws[0] != gs[1]) I.fail("the weight " + shapeToString(ws) + " does not match the input " + shapeToString(gs));
    Ints inputShape{gs[0], ws[1] * group};
    for (std::size_t a = 0; a < 2; ++a) {
        if (outPad[a] < 0 || outPad[a] >= std::max(strides[a], dilations[a])) I.fail("output_padding must be in [0, max(stride, dilation))");
        inputShape.push_back(strides[a] * (gs[2 + a] - 1) + outPad[a] + (ws[2 + a] - 1) * dilations[a] + 1 - pads[a] - pads[a + 2]);
    }
    if (!symIsConst(I.symShape(g)[0])) I.fail("a dynamic batch dimension is not supported here (conv2d_grad_input has a fixed input shape)");
    Attributes at{{"strides", strides}, {"pads", pads}, {"dilations", dilations}, {"group", group}, {"input_shape", inputShape}};
    I.bindFloat(I.out(), I.emit(Op::Conv2dGradInput, {g, w}, at, I.out()));
}

void pool(Importer& I, Op op) {
    const bool isMax = op == Op::MaxPool;
    ValueRef x = fourD(I, 0, "pooling");
    if (isMax) I.requireUnused(1, "the indices");
    const Ints kernel = twoValues(I, "kernel_shape", {});
    const Ints strides = twoValues(I, "strides", {1, 1});
    if (auto d = I.attrInts("dilations"); d && std::any_of(d->begin(), d->end(), [](std::int64_t v) { return v != 1; }))
        I.fail("dilated pooling is not supported");
    const Ints pads = spatialPads(I, x, kernel, strides, {1, 1});
    if (I.attrInt("ceil_mode", 0)) {
        const Shape& s = I.shapeOf(x);
        for (std::size_t a = 0; a < 2; ++a) {
            const std::int64_t span = s[2 + a] + pads[a] + pads[a + 2] - kernel[a];
            if (strides[a] > 0 && span >= 0 && span % strides[a] != 0) I.fail("ceil_mode=1 changes the output size here, which is not supported");
        }
    }
    Attributes at{{"kernel", kernel}, {"strides", strides}, {"pads", pads}};
    if (!isMax) at.set("count_include_pad", I.attrInt("count_include_pad", 0) != 0 ? std::int64_t(1) : std::int64_t(0));
    I.bindFloat(I.out(), I.emit(op, {x}, at, I.out()));
}

void globalMaxPool(Importer& I) {
    ValueRef x = I.fin(0);
    const auto rank = std::int64_t(I.shapeOf(x).size());
    if (rank < 3) I.fail("input must be N, C and spatial dimensions");
    Ints axes;
    for (std::int64_t a = 2; a < rank; ++a) axes.push_back(a);
    I.bindFloat(I.out(), I.emit(Op::Max, {x}, {{"axes", axes}, {"keepdims", std::int64_t(1)}}, I.out()));
}

void batchNorm(Importer& I) {
    std::vector<ValueRef> ins;
    for (int i = 0; i < 5; ++i) ins.push_back(I.fin(i));
    bool training = false;
    if (I.opset() >= 14) training = I.attrInt("training_mode", 0) != 0;
    else
        for (int k = 1; k < I.node().output_size(); ++k) training = training || !I.node().output(k).empty();
    for (int k = 1; k < I.node().output_size(); ++k) I.requireUnused(k, "a running statistic");
    Attributes at{{"epsilon", I.attrFloat("epsilon", 1e-5)}};
    if (training) at.set("training", std::int64_t(1));
    I.bindFloat(I.out(), I.emit(Op::BatchNorm, ins, at, I.out()));
}

void layerNorm(Importer& I) {
    I.requireUnused(1, "the mean");
    I.requireUnused(2, "the inverse standard deviation");
    ValueRef x = I.fin(0);
    const std::int64_t axisAttr = I.attrInt("axis", -1);
    const Shape& s = I.shapeOf(x);
    const std::int64_t axis = normAxis(I, axisAttr, std::int64_t(s.size()), "axis");
    const Shape norm(s.begin() + axis, s.end());
    std::vector<ValueRef> ins{x};
    for (int i = 1; i <= 2; ++i) {
        if (!I.has(i)) continue;
        ValueRef p = I.fin(i);
        if (I.shapeOf(p) != norm) p = I.emit(Op::Expand, {p}, {{"shape", Ints(norm.begin(), norm.end())}}, I.out() + (i == 1 ? "/scale" : "/bias"));
        if (i == 2 && ins.size() == 1) I.fail("a bias without a scale");
        ins.push_back(p);
    }
    I.bindFloat(I.out(), I.emit(Op::LayerNorm, ins, {{"axis", axisAttr}, {"epsilon", I.attrFloat("epsilon", 1e-5)}}, I.out()));
}

void ifOp(Importer& I) {
    // Exporters emit If for shape checks (PyTorch: squeeze of a dimension it cannot prove is 1);
    // a condition known while importing selects the branch, whose nodes are converted in place.
    const IntTensor& cond = I.iin(0, "the condition");
    if (cond.data.size() != 1 || !symIsConst(cond.data[0]))
        I.fail("the condition must be known while importing (computed from shapes or constants); here it " +
               std::string(cond.data.size() != 1 ? "is not a single value" : "depends on a dynamic dimension (" + I.dynamicNote() + ")"));
    const std::string which = cond.data[0][0] ? "then_branch" : "else_branch";
    const auto* a = I.attr(which);
    if (!a || !a->has_g()) I.fail("attribute '" + which + "' (a graph) is missing");
    const onnx::GraphProto& branch = a->g();
    if (branch.output_size() != I.node().output_size())
        I.fail(which + " has " + std::to_string(branch.output_size()) + " outputs for the node's " + std::to_string(I.node().output_size()));
    I.inlineBranch(branch);
    for (int k = 0; k < branch.output_size(); ++k) {
        const onnx::NodeProto& self = I.node();
        if (self.output(k).empty()) continue;
        Value v = I.valueNamed(branch.output(k).name());
        I.bindValue(self.output(k), std::move(v));
    }
}

Importer::Handler un(Op op) { return [op](Importer& I) { unary(I, op); }; }
Importer::Handler ew(Op op, char intOp) { return [op, intOp](Importer& I) { elementwise(I, op, intOp); }; }

}  // namespace

const std::map<std::string, Importer::Handler>& Importer::handlers() {
    static const std::map<std::string, Handler> table = {
        // elementwise
        {"Neg", un(Op::Neg)}, {"Abs", un(Op::Abs)}, {"Exp", un(Op::Exp)}, {"Log", un(Op::Log)}, {"Sqrt", un(Op::Sqrt)},
        {"Sin", un(Op::Sin)}, {"Cos", un(Op::Cos)}, {"Tanh", un(Op::Tanh)}, {"Sigmoid", un(Op::Sigmoid)}, {"Relu", un(Op::Relu)},
        {"Erf", un(Op::Erf)}, {"Sign", un(Op::Sign)}, {"Reciprocal", reciprocal},
        {"Add", ew(Op::Add, '+')}, {"Sub", ew(Op::Sub, '-')}, {"Mul", ew(Op::Mul, '*')}, {"Div", ew(Op::Div, '/')}, {"Pow", ew(Op::Pow, 0)},
        {"Max", [](Importer& I) { variadic(I, Op::Maximum, 'M'); }},
        {"Min", [](Importer& I) { variadic(I, Op::Minimum, 'm'); }},
        {"Sum", [](Importer& I) { variadic(I, Op::Add, '+'); }},
        {"Clip", clip},
        {"Where", where},
        {"Greater", [](Importer& I) { compare(I, '>'); }}, {"Less", [](Importer& I) { compare(I, '<'); }},
        {"Equal", [](Importer& I) { compare(I, '='); }}, {"GreaterOrEqual", [](Importer& I) { compare(I, 'g'); }},
        {"LessOrEqual", [](Importer& I) { compare(I, 'l'); }},
        {"Not", [](Importer& I) { logical(I, 'n'); }}, {"And", [](Importer& I) { logical(I, '&'); }}, {"Or", [](Importer& I) { logical(I, '|'); }},
        // linear algebra, normalization
        {"MatMul", [](Importer& I) { I.bindFloat(I.out(), I.emit(Op::MatMul, {I.fin(0), I.fin(1)}, {}, I.out())); }},
        {"Gemm", gemm},
        {"Softmax", [](Importer& I) { softmax(I, Op::Softmax); }},
        {"LogSoftmax", [](Importer& I) { softmax(I, Op::LogSoftmax); }},
        {"ReduceSum", [](Importer& I) { reduce(I, Op::Sum); }},
        {"ReduceMean", [](Importer& I) { reduce(I, Op::Mean); }},
        {"ReduceMax", [](Importer& I) { reduce(I, Op::Max); }},
        {"BatchNormalization", batchNorm},
        {"LayerNormalization", layerNorm},
        // layers
        {"Conv", conv}, {"ConvTranspose", convTranspose},
        {"MaxPool", [](Importer& I) { pool(I, Op::MaxPool); }},
        {"AveragePool", [](Importer& I) { pool(I, Op::AvgPool); }},
        {"GlobalAveragePool", [](Importer& I) { I.bindFloat(I.out(), I.emit(Op::GlobalAvgPool, {I.fin(0)}, {}, I.out())); }},
        {"GlobalMaxPool", globalMaxPool},
        // data movement
        {"Reshape", reshape}, {"Expand", expand}, {"Flatten", flatten}, {"Transpose", transpose}, {"Squeeze", squeeze},
        {"Unsqueeze", unsqueeze}, {"Concat", concat}, {"Split", split}, {"Slice", slice}, {"Gather", gather}, {"Pad", pad},
        // values
        {"Identity", identity}, {"Dropout", dropout}, {"Constant", constant}, {"ConstantOfShape", constantOfShape},
        {"Cast", cast}, {"Shape", shapeOp}, {"Size", sizeOp}, {"Range", range}, {"If", ifOp},
    };
    return table;
}

}  // namespace adj::onnx_io
