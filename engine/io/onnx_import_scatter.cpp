// ONNX GatherElements and ScatterND.
//
// GatherElements (torch.gather): with indices known when the graph runs (an INT64 input, an
// argmax), the gather_elements op; with indices known while importing, a product with a constant
// one-hot mask summed over the data's axis, so that no integer tensor enters the graph.
//
// ScatterND with indices known while importing (computed from shapes and constants, as
// PyTorch writes an indexed assignment such as Swin Transformer's `mask[h0:h1, w0:w1] = k`).
// The data is viewed as rows: [R, S], R the product of the first k axes (k = the index tuples'
// length), S the rest; the updates as [N, S], one row per index tuple. Each output row is the
// data's row or the last update aimed at it, so the result is the concatenation of slices of the
// two, one slice per run of consecutive rows from the same source: plain graph ops, differentiable
// in the data (the rows kept) and the updates (the rows placed).
#include <algorithm>

#include "io/onnx_import_ops.h"

namespace adj::onnx_io::ops {

namespace {

/// At most this many slices (runs of rows): a scatter into every other row of a large tensor
/// is refused rather than turned into a graph of that many nodes.
constexpr std::size_t kMaxRuns = 4096;

std::int64_t product(const Shape& s, std::size_t from, std::size_t to) {
    std::int64_t p = 1;
    for (std::size_t i = from; i < to; ++i) p *= s[i];
    return p;
}

}  // namespace

void gatherElements(Importer& I) {
    const ValueRef x = I.fin(0);
    const Shape xs = I.shapeOf(x);
    const auto rank = std::int64_t(xs.size());
    if (rank == 0) I.fail("cannot gather from a scalar");
    const std::int64_t axis = normAxis(I, I.attrInt("axis", 0), rank, "axis");
    if (I.isIndices(1)) {
        I.bindFloat(I.out(), I.emit(Op::GatherElements, {x, I.graphValue(1)}, {{"axis", axis}}, I.out()));
        return;
    }
    const IntTensor& idx = I.iin(1, "the indices");
    if (!idx.allConst()) I.fail("indices that depend on a dynamic dimension (" + I.dynamicNote() + ") are not supported");
    I.staticShape(x, "data");
    const Shape& is = idx.shape;
    if (std::int64_t(is.size()) != rank) I.fail("the indices " + shapeToString(is) + " must have the data's rank (" + shapeToString(xs) + ")");
    const std::string s = I.out();
    // the data cut to the indices' extent off the axis, then a new axis before the gathered one
    ValueRef cut = x;
    for (std::int64_t d = 0; d < rank; ++d) {
        if (d == axis) continue;
        if (is[std::size_t(d)] > xs[std::size_t(d)]) I.fail("the indices " + shapeToString(is) + " are longer than the data " + shapeToString(xs) + " on axis " + std::to_string(d));
        if (is[std::size_t(d)] < xs[std::size_t(d)])
            cut = I.emit(Op::Slice, {cut}, {{"starts", Ints{0}}, {"ends", Ints{is[std::size_t(d)]}}, {"axes", Ints{d}}}, s + "/cut" + std::to_string(d));
    }
    const ValueRef widened = I.emit(Op::Unsqueeze, {cut}, {{"axes", Ints{axis}}}, s + "/data");
    // onehot[.., i, k, ..] = (idx[.., i, ..] == k): the indices' shape with the data's axis after the axis
    const std::int64_t n = xs[std::size_t(axis)];
    Shape hs = is;
    hs.insert(hs.begin() + axis + 1, n);
    std::int64_t inner = 1;
    for (std::size_t d = std::size_t(axis) + 1; d < is.size(); ++d) inner *= is[d];
    const std::int64_t total = product(is, 0, is.size()) * n;
    if (total > (std::int64_t(1) << 24)) I.fail("a one-hot mask of more than 2^24 elements is not supported");
    std::vector<float> onehot(static_cast<std::size_t>(total), 0.f);
    const Ints values = idx.values();
    for (std::int64_t e = 0; e < std::int64_t(values.size()); ++e) {
        std::int64_t v = values[std::size_t(e)];
        if (v < -n || v >= n) I.fail("index " + std::to_string(v) + " is out of range for axis " + std::to_string(axis) + " of size " + std::to_string(n));
        if (v < 0) v += n;
        const std::int64_t before = e / inner, after = e % inner;  // e = before * inner + after
        onehot[std::size_t((before * n + v) * inner + after)] = 1.f;
    }
    const ValueRef mask = I.constantNode(Tensor::fromVector(hs, onehot), s + "/onehot");
    I.bindFloat(I.out(), I.emit(Op::Sum, {I.emit(Op::Mul, {widened, mask}, {}, s + "/picked")}, {{"axes", Ints{axis + 1}}, {"keepdims", std::int64_t(0)}}, s));
}

void scatterElements(Importer& I) {
    // the updates added into zeros of the data's shape at their indices (gather_elements_grad, the
    // adjoint of gather_elements), then taken where an index wrote (reduction none) or added to
    // the data (add). Indices are int64 values (constant ones become a constant node).
    const std::string reduction = I.attrString("reduction", "none");
    if (reduction != "none" && reduction != "add") I.fail("reduction '" + reduction + "' is not supported (none and add are)");
    const ValueRef data = I.fin(0), updates = I.fin(2);
    const Shape ds = I.staticShape(data, "the data");
    const Shape us = I.staticShape(updates, "the updates");
    const auto rank = std::int64_t(ds.size());
    if (rank == 0) I.fail("cannot scatter into a scalar");
    const std::int64_t axis = normAxis(I, I.attrInt("axis", 0), rank, "axis");
    const ValueRef idx = I.intIn(1, DType::I64);
    if (I.shapeOf(idx) != us) I.fail("the indices " + shapeToString(I.shapeOf(idx)) + " and the updates " + shapeToString(us) + " must have one shape");
    const std::string s = I.out();
    const Attributes at{{"axis", axis}, {"input_shape", Ints(ds.begin(), ds.end())}};
    const ValueRef placed = I.emit(Op::GatherElementsGrad, {updates, idx}, at, s + "/placed");
    if (reduction == "add") {
        I.bindFloat(s, I.emit(Op::Add, {data, placed}, {}, s));
        return;
    }
    const ValueRef hits = I.emit(Op::GatherElementsGrad, {I.constantNode(Tensor::full(us, 1.f), s + "/ones"), idx}, at, s + "/hits");
    const ValueRef written = I.emit(Op::Greater, {hits, I.constantNode(Tensor::scalar(0.f), s + "/zero")}, {}, s + "/written");
    I.bindFloat(s, I.emit(Op::Where, {written, placed, data}, {}, s));
}

void gatherND(Importer& I) {
    // the index tuples [..., k] as one flat row number of the data seen as [rows, rest...], then a
    // gather of rows: constant indices are folded here, indices known only when the graph runs are
    // combined with integer ops (negative ones counted from the end of their axis)
    if (I.attrInt("batch_dims", 0) != 0) I.fail("batch_dims " + std::to_string(I.attrInt("batch_dims", 0)) + " is not supported (only 0)");
    const ValueRef data = I.dataIn(0);
    const Shape ds = I.staticShape(data, "the data");
    const std::string s = I.out();
    Shape is;
    if (I.isInts(1)) is = I.value(1).ints.shape;
    else if (I.isIndices(1)) is = I.staticShape(I.value(1).ref, "the indices");
    else I.fail("the indices must be integers");
    if (is.empty()) I.fail("the indices must have at least one dimension");
    const auto k = std::size_t(is.back());
    if (k < 1 || k > ds.size()) I.fail("index tuples of length " + std::to_string(k) + " for data of rank " + std::to_string(ds.size()));
    const std::int64_t rows = product(ds, 0, k);
    Shape rowShape{rows};
    rowShape.insert(rowShape.end(), ds.begin() + std::ptrdiff_t(k), ds.end());
    const Shape tupleShape(is.begin(), is.end() - 1);
    const std::int64_t tuples = product(tupleShape, 0, tupleShape.size());
    ValueRef flat;
    if (I.isInts(1)) {
        const IntTensor& idx = I.value(1).ints;
        if (!idx.allConst()) I.fail("indices that depend on a dynamic dimension (" + I.dynamicNote() + ") are not supported");
        const Ints values = idx.values();
        Ints rowOf;
        for (std::int64_t u = 0; u < tuples; ++u) {
            std::int64_t r = 0;
            for (std::size_t j = 0; j < k; ++j) {
                std::int64_t i = values[std::size_t(u) * k + j];
                if (i < -ds[j] || i >= ds[j]) I.fail("index " + std::to_string(i) + " is out of range for axis " + std::to_string(j) + " of size " + std::to_string(ds[j]));
                r = r * ds[j] + (i < 0 ? i + ds[j] : i);
            }
            rowOf.push_back(r);
        }
        flat = I.constantNode(Tensor::fromInts(tupleShape.empty() ? Shape{} : tupleShape, rowOf), s + "/rows");
    } else {
        const ValueRef idx = I.intIn(1, DType::I64);
        const std::int64_t last = std::int64_t(is.size()) - 1;
        for (std::size_t j = 0; j < k; ++j) {
            const ValueRef part = I.emit(Op::Squeeze, {I.emit(Op::Slice, {idx}, {{"starts", Ints{std::int64_t(j)}}, {"ends", Ints{std::int64_t(j) + 1}}, {"axes", Ints{last}}},
                                                                s + "/index" + std::to_string(j))},
                                         {{"axes", Ints{last}}}, s + "/at" + std::to_string(j));
            const ValueRef dim = I.constantNode(Tensor::fromInts({}, {ds[j]}), s + "/size" + std::to_string(j));
            const ValueRef wrapped = I.emit(Op::Where, {I.emit(Op::Greater, {I.constantNode(Tensor::fromInts({}, {0}), s + "/zero" + std::to_string(j)), part}, {}, s + "/negative" + std::to_string(j)),
                                                         I.emit(Op::Add, {part, dim}, {}, s + "/from_end" + std::to_string(j)), part},
                                            {}, s + "/wrapped" + std::to_string(j));
            flat = j == 0 ? wrapped : I.emit(Op::Add, {I.emit(Op::Mul, {flat, dim}, {}, s + "/scaled" + std::to_string(j)), wrapped}, {}, s + "/row" + std::to_string(j));
        }
    }
    const ValueRef table = I.emit(Op::Reshape, {data}, {{"shape", Ints(rowShape.begin(), rowShape.end())}}, s + "/table");
    I.bindData(s, I.emit(Op::Gather, {table, flat}, {{"axis", std::int64_t(0)}}, s));
}

void scatterND(Importer& I) {
    const std::string reduction = I.attrString("reduction", "none");
    if (reduction != "none") I.fail("reduction '" + reduction + "' is not supported (only 'none')");
    const IntTensor& idx = I.iin(1, "the indices");
    if (!idx.allConst()) I.fail("indices that depend on a dynamic dimension (" + I.dynamicNote() + ") are not supported");
    const ValueRef data = I.fin(0), updates = I.fin(2);
    const Shape ds = I.staticShape(data, "a data tensor");
    const Shape us = I.shapeOf(updates);
    if (idx.shape.empty()) I.fail("the indices must have at least one dimension");
    const auto k = std::size_t(idx.shape.back());
    if (k < 1 || k > ds.size())
        I.fail("index tuples of length " + std::to_string(k) + " for data of rank " + std::to_string(ds.size()));
    Shape want(idx.shape.begin(), idx.shape.end() - 1);
    want.insert(want.end(), ds.begin() + std::ptrdiff_t(k), ds.end());
    if (us != want) I.fail("updates of shape " + shapeToString(us) + " where the indices and data need " + shapeToString(want));

    const std::int64_t rows = product(ds, 0, k), width = product(ds, k, ds.size());
    const std::int64_t n = product(idx.shape, 0, idx.shape.size() - 1);
    const Ints values = idx.values();
    std::vector<std::int64_t> source(std::size_t(rows), -1);  // the update row each data row takes, or -1
    for (std::int64_t u = 0; u < n; ++u) {
        std::int64_t flat = 0;
        for (std::size_t j = 0; j < k; ++j) {
            std::int64_t i = values[std::size_t(u) * k + j];
            const std::int64_t dim = ds[j];
            if (i < -dim || i >= dim) I.fail("index " + std::to_string(i) + " is out of range for axis " + std::to_string(j) + " of size " + std::to_string(dim));
            if (i < 0) i += dim;
            flat = flat * dim + i;
        }
        source[std::size_t(flat)] = u;  // the last update wins, as ONNX's reference applies them in order
    }

    const std::string s = I.out();
    if (n == 0 || rows == 0) {  // nothing placed
        I.bindFloat(I.out(), data);
        return;
    }
    const ValueRef dataRows = I.emit(Op::Reshape, {data}, {{"shape", Ints{rows, width}}}, s + "/data_rows");
    const ValueRef updateRows = I.emit(Op::Reshape, {updates}, {{"shape", Ints{n, width}}}, s + "/update_rows");
    // runs of rows from one source: [first row, end) of the data, or consecutive update rows
    std::vector<ValueRef> pieces;
    for (std::int64_t r = 0; r < rows;) {
        const std::int64_t src = source[std::size_t(r)];
        std::int64_t e = r + 1;
        if (src < 0)
            while (e < rows && source[std::size_t(e)] < 0) ++e;
        else
            while (e < rows && source[std::size_t(e)] == src + (e - r)) ++e;
        if (pieces.size() == kMaxRuns) I.fail("the scatter places rows in more than " + std::to_string(kMaxRuns) + " separate runs, which is not supported");
        const std::string stem = s + "/rows_" + std::to_string(r);
        pieces.push_back(src < 0 ? I.emit(Op::Slice, {dataRows}, {{"starts", Ints{r}}, {"ends", Ints{e}}, {"axes", Ints{0}}}, stem)
                                 : I.emit(Op::Slice, {updateRows}, {{"starts", Ints{src}}, {"ends", Ints{src + (e - r)}}, {"axes", Ints{0}}}, stem));
        r = e;
    }
    const ValueRef joined = pieces.size() == 1 ? pieces[0] : I.emit(Op::Concat, pieces, {{"axis", std::int64_t(0)}}, s + "/rows");
    I.bindFloat(I.out(), I.emit(Op::Reshape, {joined}, {{"shape", Ints(ds.begin(), ds.end())}}, s));
}

}  // namespace adj::onnx_io::ops
