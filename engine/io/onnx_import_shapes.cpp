// Handlers of the data-movement ops: reshape, expand, flatten, transpose, squeeze, unsqueeze,
// concat, split, slice, gather, pad (on float values as graph nodes, on integer tensors evaluated).
#include <algorithm>
#include <climits>
#include <cmath>
#include <functional>
#include <numeric>

#include "io/onnx_import_ops.h"
#include "base/errors.h"

namespace adj::onnx_io::ops {

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
    ValueRef x = I.dataIn(0);
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
    I.bindData(I.out(), I.emit(Op::Reshape, {x}, {{"shape", out}}, I.out()));
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
    ValueRef x = I.dataIn(0);
    const std::vector<Sym> xs = I.symShape(x);
    const auto n = std::int64_t(target.data.size()), offset = n - std::int64_t(xs.size());
    Ints out;
    std::vector<std::size_t> grown;  // dynamic dimensions the input does not have: added by broadcasting
    for (std::int64_t i = 0; i < n; ++i) {
        const Sym& s = target.data[std::size_t(i)];
        const std::int64_t j = i - offset;
        if (symIsConst(s)) out.push_back(s[0]);
        else if (j >= 0 && xs[std::size_t(j)] == s) out.push_back(1);  // keeps the input's dimension
        else if (j < 0 || (symIsConst(xs[std::size_t(j)]) && xs[std::size_t(j)][0] == 1)) {
            out.push_back(1);
            grown.push_back(std::size_t(i));
        } else {
            I.fail("the target shape's dimension " + std::to_string(i) + " does not match the input's");
        }
    }
    const bool expands = std::any_of(out.begin(), out.end(), [](std::int64_t d) { return d != 1; }) || std::int64_t(xs.size()) != n;
    ValueRef r = grown.empty() || expands ? I.emit(Op::Expand, {x}, {{"shape", out}}, grown.empty() ? I.out() : I.out() + "/fixed") : x;
    for (std::size_t a : grown)
        r = I.emit(Op::Add, {r, dynamicZeros(I, target.data[a], std::size_t(n), a, I.out() + "/dim" + std::to_string(a))}, {}, I.out());
    I.bindData(I.out(), r);
}

void flatten(Importer& I) { I.bindData(I.out(), I.emit(Op::Flatten, {I.dataIn(0)}, {{"axis", I.attrInt("axis", 1)}}, I.out())); }

void transpose(Importer& I) {
    if (I.isInts(0)) {
        I.bindInts(I.out(), intTranspose(I, I.value(0).ints, I.attrInts("perm")));
        return;
    }
    Attributes at;
    if (auto perm = I.attrInts("perm")) at.set("perm", *perm);
    I.bindData(I.out(), I.emit(Op::Transpose, {I.dataIn(0)}, at, I.out()));
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
    ValueRef x = I.dataIn(0);
    if (!axes) {
        // Squeeze every dimension of size 1 that is not dynamic (a dynamic one is 1 by default only).
        Ints found;
        const auto dims = I.symShape(x);
        for (std::size_t d = 0; d < dims.size(); ++d)
            if (dims[d] == symConst(1)) found.push_back(std::int64_t(d));
        axes = found;
    }
    I.bindData(I.out(), I.emit(Op::Squeeze, {x}, {{"axes", *axes}}, I.out()));
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
    I.bindData(I.out(), I.emit(Op::Unsqueeze, {I.dataIn(0)}, {{"axes", *axes}}, I.out()));
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
    // float constants not yet in the graph (Resize's scales as an exporter concatenates them
    // without constant folding): joined while importing, so that they stay known
    bool allPending = I.numInputs() > 0;
    for (int i = 0; i < I.numInputs(); ++i) allPending = allPending && I.has(i) && I.value(i).kind == Value::Kind::PendingConstant;
    if (allPending) {
        const Shape first = I.value(0).constant.shape();
        std::int64_t ax = axis;
        if (!normalizeAxis(ax, std::int64_t(first.size()))) I.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(first.size()));
        const auto a = std::size_t(ax);
        std::int64_t outer = 1, total = 0;
        for (std::size_t d = 0; d < a; ++d) outer *= first[d];
        std::vector<std::vector<float>> parts;
        std::vector<std::int64_t> inner;  // elements per outer index, per input
        for (int i = 0; i < I.numInputs(); ++i) {
            const Tensor& t = I.value(i).constant;
            const Shape& sh = t.shape();
            bool ok = sh.size() == first.size();
            for (std::size_t d = 0; ok && d < sh.size(); ++d) ok = d == a || sh[d] == first[d];
            if (!ok) I.fail("input " + std::to_string(i) + " of shape " + shapeToString(sh) + " does not match input 0's " + shapeToString(first) + " off axis " + std::to_string(ax));
            total += sh[a];
            parts.push_back(t.toVector());
            inner.push_back(outer ? std::int64_t(parts.back().size()) / std::max<std::int64_t>(outer, 1) : 0);
        }
        std::vector<float> out;
        for (std::int64_t o = 0; o < outer; ++o)
            for (std::size_t i = 0; i < parts.size(); ++i)
                out.insert(out.end(), parts[i].begin() + std::ptrdiff_t(o * inner[i]), parts[i].begin() + std::ptrdiff_t((o + 1) * inner[i]));
        Shape shape = first;
        shape[a] = total;
        I.bindPending(I.out(), Tensor::fromVector(shape, out));
        return;
    }
    std::vector<ValueRef> ins;
    const std::optional<DType> integers = I.integerInputs();  // integers joined as integers
    for (int i = 0; i < I.numInputs(); ++i)
        if (I.has(i)) ins.push_back(I.numIn(i, integers));
    I.bindData(I.out(), I.emit(Op::Concat, ins, {{"axis", axis}}, I.out()));
}

void split(Importer& I) {
    ValueRef x = I.dataIn(0);
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
    for (int k = 0; k < outputs; ++k) I.bindData(I.node().output(k), {id, k});
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
    ValueRef x = I.dataIn(0);
    const auto dims = I.symShape(x);
    // negative steps: the positions taken, gathered along the axis (the dimension must be static)
    std::vector<std::pair<std::int64_t, Ints>> reversed;
    Ints posAxes, posSteps;
    std::vector<Sym> posStarts, posEnds;
    for (std::size_t i = 0; i < n; ++i) {
        if (steps[i] == 0) I.fail("slice step 0 on axis " + std::to_string(axes[i]));
        if (steps[i] > 0) {
            posAxes.push_back(axes[i]);
            posSteps.push_back(steps[i]);
            posStarts.push_back(starts.data[i]);
            posEnds.push_back(ends.data[i]);
            continue;
        }
        const std::int64_t axis = normAxis(I, axes[i], std::int64_t(dims.size()), "slice axis");
        if (!symIsConst(dims[std::size_t(axis)]) || !symIsConst(starts.data[i]) || !symIsConst(ends.data[i]))
            I.fail("a slice with a negative step over a dynamic dimension or at dynamic positions is not supported");
        reversed.push_back({axis, sliceIndices(starts.data[i][0], ends.data[i][0], steps[i], dims[std::size_t(axis)][0])});
    }
    for (const auto& [axis, positions] : reversed) {
        const bool last = posAxes.empty() && axis == reversed.back().first;
        x = I.emit(Op::Gather, {x, I.constantNode(Tensor::fromInts({std::int64_t(positions.size())}, positions), I.out() + "/positions" + std::to_string(axis))},
                   {{"axis", axis}}, last ? I.out() : I.out() + "/reversed" + std::to_string(axis));
    }
    if (posAxes.empty()) {
        I.bindData(I.out(), x);
        return;
    }
    Ints st, en;
    for (std::size_t i = 0; i < posAxes.size(); ++i) {
        const std::int64_t axis = normAxis(I, posAxes[i], std::int64_t(dims.size()), "slice axis");
        if (!symIsConst(posStarts[i])) I.fail("a slice start that depends on a dynamic dimension (" + I.dynamicNote() + ") is not supported");
        st.push_back(posStarts[i][0]);
        if (symIsConst(posEnds[i])) en.push_back(posEnds[i][0]);
        else if (posEnds[i] == dims[std::size_t(axis)]) en.push_back(INT64_MAX);  // to the end of the axis
        else I.fail("a slice end that depends on a dynamic dimension (" + I.dynamicNote() + ") is not supported");
    }
    Attributes at{{"starts", st}, {"ends", en}, {"axes", posAxes}};
    if (std::any_of(posSteps.begin(), posSteps.end(), [](std::int64_t v) { return v != 1; })) at.set("steps", posSteps);
    I.bindData(I.out(), I.emit(Op::Slice, {x}, at, I.out()));
}

void nonZero(Importer& I) {
    // the positions of the nonzero elements, [rank, count] int64: the count depends on the
    // values, so the input must be known while importing (a constant, or an input given to
    // `run`, to which the graph is then specialized); the result is an integer tensor of the import
    const Value& v = I.value(0);
    Shape shape;
    std::vector<bool> nonzero;
    if (v.kind == Kind::Ints) {
        if (!v.ints.allConst()) I.fail("an input that depends on a dynamic dimension is not supported");
        shape = v.ints.shape;
        for (auto x : v.ints.values()) nonzero.push_back(x != 0);
    } else {
        const Tensor* t = nullptr;
        if (v.kind == Kind::PendingConstant) t = &v.constant;
        else if (I.graph().node(v.ref.node).op == Op::Constant) t = &I.graph().node(v.ref.node).value;
        else t = I.knownInput(v.ref);
        if (!t) I.fail("the input must be known while importing (a constant, or an input given to run): NonZero's output shape depends on its values");
        if (t->numel() > kMaxIntResult) I.fail("an input of more than " + std::to_string(kMaxIntResult) + " elements is not supported");
        shape = t->shape();
        for (float x : t->toVector()) nonzero.push_back(x != 0.f);
    }
    const std::int64_t count = std::int64_t(std::count(nonzero.begin(), nonzero.end(), true));
    const auto rank = std::int64_t(shape.size());
    IntTensor r;
    r.shape = {rank, count};
    r.data.assign(std::size_t(rank * count), symConst(0));
    std::int64_t k = 0;
    for (std::size_t flat = 0; flat < nonzero.size(); ++flat) {
        if (!nonzero[flat]) continue;
        std::int64_t rest = std::int64_t(flat);
        for (std::int64_t d = rank - 1; d >= 0; --d) {
            r.data[std::size_t(d * count + k)] = symConst(rest % shape[std::size_t(d)]);
            rest /= shape[std::size_t(d)];
        }
        ++k;
    }
    I.bindInts(I.out(), std::move(r));
}

void compress(Importer& I) {
    // the slices where the condition is true, gathered along the axis (the input flattened when
    // no axis is given); the condition must be known while importing (a constant, or an input
    // given to `run`: the graph is specialized to it), since it sets the output's shape
    const IntTensor& condition = I.iin(1, "the condition");
    if (condition.shape.size() != 1) I.fail("the condition must be 1-D, got shape " + shapeToString(condition.shape));
    if (!condition.allConst()) I.fail("a condition that depends on a dynamic dimension is not supported");
    ValueRef x = I.dataIn(0);
    std::int64_t axis = 0;
    if (I.attr("axis")) {
        axis = normAxis(I, I.attrInt("axis", 0), std::int64_t(I.shapeOf(x).size()), "axis");
    } else {
        x = I.emit(Op::Reshape, {x}, {{"shape", Ints{-1}}}, I.out() + "/flat");
    }
    const std::int64_t length = I.staticDim(x, std::size_t(axis), "the compressed axis");
    const Ints flags = condition.values();
    if (std::int64_t(flags.size()) > length) I.fail("the condition has " + std::to_string(flags.size()) + " entries for an axis of " + std::to_string(length));
    Ints kept;
    for (std::size_t k = 0; k < flags.size(); ++k)
        if (flags[k] != 0) kept.push_back(std::int64_t(k));
    const ValueRef positions = I.constantNode(Tensor::fromInts({std::int64_t(kept.size())}, kept), I.out() + "/kept");
    I.bindData(I.out(), I.emit(Op::Gather, {x, positions}, {{"axis", axis}}, I.out()));
}

void gather(Importer& I) {
    const std::int64_t axisAttr = I.attrInt("axis", 0);
    if (I.isIndices(1)) {  // indices known when the graph runs (token ids): a gather node
        const ValueRef x = I.dataIn(0);
        const auto rank = std::int64_t(I.shapeOf(x).size());
        if (rank == 0) I.fail("cannot gather from a scalar");
        I.bindData(I.out(), I.emit(Op::Gather, {x, I.graphValue(1)}, {{"axis", normAxis(I, axisAttr, rank, "axis")}}, I.out()));
        return;
    }
    const IntTensor& idx = I.iin(1, "the indices");
    if (!idx.allConst()) I.fail("indices that depend on a dynamic dimension are not supported");
    if (I.isInts(0)) {
        I.bindInts(I.out(), intGather(I, I.value(0).ints, idx.values(), idx.shape, axisAttr));
        return;
    }
    ValueRef x = I.dataIn(0);
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
        I.bindData(I.out(), I.emit(Op::Squeeze, {sl}, {{"axes", Ints{axis}}}, I.out()));
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
        I.bindData(I.out(), sliceOf(runs[0].first, runs[0].second, I.out()));
        return;
    }
    std::vector<ValueRef> parts;
    for (std::size_t k = 0; k < runs.size(); ++k) parts.push_back(sliceOf(runs[k].first, runs[k].second, I.out() + "/slice_" + std::to_string(k)));
    I.bindData(I.out(), I.emit(Op::Concat, parts, {{"axis", axis}}, I.out()));
}

void argExtreme(Importer& I, Op op) {
    const ValueRef x = I.fin(0);
    const auto rank = std::int64_t(I.shapeOf(x).size());
    if (rank == 0) I.fail("needs an input of rank 1 or more");
    const std::int64_t axis = normAxis(I, I.attrInt("axis", 0), rank, "axis");
    Attributes at{{"axis", axis}, {"keepdims", std::int64_t(I.attrInt("keepdims", 1) != 0)},
                  {"select_last_index", std::int64_t(I.attrInt("select_last_index", 0) != 0)}};
    I.bindIndices(I.out(), I.emit(op, {x}, at, I.out()));
}

void pad(Importer& I) {
    const std::string mode = I.attrString("mode", "constant");
    if (mode != "constant" && mode != "edge" && mode != "reflect") I.fail("mode '" + mode + "' is not supported (constant, edge and reflect are)");
    if (I.has(3)) I.fail("the axes input is not supported");
    ValueRef x = I.dataIn(0);
    const Ints pads = I.constInts(1, "pads");
    if (pads.size() != 2 * I.shapeOf(x).size()) I.fail("pads has " + std::to_string(pads.size()) + " values for rank " + std::to_string(I.shapeOf(x).size()));
    for (auto p : pads)
        if (p < 0) I.fail("negative pads (cropping) are not supported");
    if (mode != "constant") {
        // edge and reflect: each padded axis gathered at constant positions (the edge repeated,
        // or mirrored without it), so the gradient adds back into the positions read
        const std::size_t rank = I.shapeOf(x).size();
        for (std::size_t a = 0; a < rank; ++a) {
            const std::int64_t before = pads[a], after = pads[rank + a];
            if (before == 0 && after == 0) continue;
            const std::int64_t n = I.staticDim(x, a, "a padded axis");
            if (n == 0) I.fail(mode + " padding of an empty axis");
            if (mode == "reflect" && (before >= n || after >= n))
                I.fail("reflect padding of " + std::to_string(std::max(before, after)) + " on an axis of size " + std::to_string(n) + " (at most " + std::to_string(n - 1) + ")");
            if (n + before + after > kMaxIntElements) I.fail("the padded axis would have more than " + std::to_string(kMaxIntElements) + " positions");
            std::vector<std::int64_t> at;
            for (std::int64_t i = -before; i < n + after; ++i) {
                std::int64_t j = i;
                if (mode == "edge") j = std::clamp<std::int64_t>(i, 0, n - 1);
                else if (i < 0) j = -i;
                else if (i >= n) j = 2 * (n - 1) - i;
                at.push_back(j);
            }
            const ValueRef positions = I.constantNode(Tensor::fromInts({std::int64_t(at.size())}, at), I.out() + "/positions" + std::to_string(a));
            x = I.emit(Op::Gather, {x, positions}, {{"axis", std::int64_t(a)}}, I.out() + "/axis" + std::to_string(a));
        }
        if (I.graph().node(x.node).name != I.out()) {
            const Shape& shape = I.shapeOf(x);
            x = I.emit(Op::Reshape, {x}, {{"shape", Ints(shape.begin(), shape.end())}}, I.out());
        }
        I.bindData(I.out(), x);
        return;
    }
    const double value = I.has(2) ? I.constScalar(2, "constant_value") : 0.0;
    I.bindData(I.out(), I.emit(Op::Pad, {x}, {{"pads", pads}, {"value", value}}, I.out()));
}

}  // namespace adj::onnx_io::ops
