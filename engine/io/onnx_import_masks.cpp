// ONNX ops that are the table's ops with a constant mask or matrix made while importing:
//   Hardmax  one-hot of argmax along the axis: equal(cast(argmax(x, keepdims)), class numbers)
//   OneHot   off + (on - off) * (index == class numbers) along the new axis
//   TopK     k rounds of argmax (argmin), each extreme gathered and then masked out
//   Trilu    where(triangular mask of the last two axes, x, 0)
//   CumSum   a matmul along the axis by a triangular matrix of ones (inclusive or exclusive,
//            forward or reverse); the axis moved last and back by a transpose. It costs L x L
//            multiply-adds per row of length L where a scan would cost L, which the cost model
//            shows; differentiable (the gradient is the transposed matrix)
#include <algorithm>
#include <limits>

#include "io/onnx_import_ops.h"

namespace adj::onnx_io::ops {

ValueRef equalsClassNumbers(Importer& I, ValueRef index, std::int64_t axis, std::int64_t n, const std::string& stem) {
    Shape classShape(I.shapeOf(index).size(), 1);
    classShape[std::size_t(axis)] = n;
    std::vector<float> numbers(static_cast<std::size_t>(n));
    for (std::int64_t c = 0; c < n; ++c) numbers[std::size_t(c)] = float(c);
    return I.emit(Op::Equal, {index, I.constantNode(Tensor::fromVector(classShape, numbers), stem + "/classes")}, {}, stem);
}

void hardmax(Importer& I) {
    if (I.opset() < 13) I.fail("Hardmax before opset 13 (the input coerced to 2-D at axis) is not supported");
    const ValueRef x = I.fin(0);
    const auto rank = std::int64_t(I.shapeOf(x).size());
    if (rank == 0) I.fail("needs an input of rank 1 or more");
    const std::int64_t axis = normAxis(I, I.attrInt("axis", -1), rank, "axis");
    const std::int64_t n = I.staticDim(x, std::size_t(axis), "the axis");
    const std::string s = I.out();
    const ValueRef index = I.emit(Op::ArgMax, {x}, {{"axis", axis}, {"keepdims", std::int64_t(1)}, {"select_last_index", std::int64_t(0)}}, s + "/argmax");
    I.bindFloat(I.out(), equalsClassNumbers(I, I.emit(Op::Cast, {index}, {}, s + "/index"), axis, n, s));
}

void oneHot(Importer& I) {
    // y = off + (on - off) * (index == class) along a new axis; negative indices count from depth
    const double depthValue = I.constScalar(1, "depth");
    if (!(depthValue >= 1 && depthValue <= double(kMaxIntElements))) I.fail("depth must be from 1 to " + std::to_string(kMaxIntElements) + ", got " + std::to_string(depthValue));
    const auto depth = std::int64_t(depthValue);
    // values [off, on]: a constant, or a graph input given before importing
    const Value& vv = I.value(2);
    std::vector<float> values;
    if (vv.kind == Value::Kind::Ints) {
        for (std::int64_t x : vv.ints.values()) values.push_back(float(x));
    } else {
        const Tensor* t = vv.kind == Value::Kind::PendingConstant ? &vv.constant
                          : I.graph().node(vv.ref.node).op == Op::Constant ? &I.graph().node(vv.ref.node).value
                                                                            : I.knownInput(vv.ref);
        if (!t) I.fail("the values (input '" + I.inName(2) + "') must be known while importing");
        values = t->toVector();
    }
    if (values.size() != 2) I.fail("the values must hold [off, on], got " + std::to_string(values.size()) + " numbers");
    const ValueRef index = I.fin(0);
    const auto rank = std::int64_t(I.shapeOf(index).size()) + 1;
    const std::int64_t axis = normAxis(I, I.attrInt("axis", -1), rank, "axis");
    const std::string s = I.out();
    const ValueRef zero = I.constantNode(Tensor::scalar(0.f), s + "/zero");
    const ValueRef wrapped = I.emit(Op::Where, {I.emit(Op::Greater, {zero, index}, {}, s + "/negative"),
                                                I.emit(Op::Add, {index, I.constantNode(Tensor::scalar(float(depth)), s + "/depth")}, {}, s + "/from_end"), index},
                                    {}, s + "/index");
    const ValueRef placed = I.emit(Op::Unsqueeze, {wrapped}, {{"axes", Ints{axis}}}, s + "/placed");
    const ValueRef hot = equalsClassNumbers(I, placed, axis, depth, s + "/hot");
    const ValueRef scaled = I.emit(Op::Mul, {hot, I.constantNode(Tensor::scalar(values[1] - values[0]), s + "/on_minus_off")}, {}, s + "/scaled");
    I.bindFloat(s, I.emit(Op::Add, {scaled, I.constantNode(Tensor::scalar(values[0]), s + "/off")}, {}, s));
}

void topK(Importer& I) {
    // k rounds of argmax (argmin for the smallest): each picks the first extreme left, gathers its
    // value, and masks it out with -inf (+inf); sorted, ties to the lower index, as ONNX's
    // reference. Differentiable in x through the gathers.
    const ValueRef x = I.fin(0);
    const auto rank = std::int64_t(I.shapeOf(x).size());
    if (rank == 0) I.fail("needs an input of rank 1 or more");
    const std::int64_t axis = normAxis(I, I.attrInt("axis", -1), rank, "axis");
    const std::int64_t n = I.staticDim(x, std::size_t(axis), "the axis");
    const Ints kv = I.constInts(1, "k");
    if (kv.size() != 1) I.fail("k must hold one value");
    const std::int64_t k = kv[0];
    if (k < 0 || k > n) I.fail("k = " + std::to_string(k) + " for an axis of size " + std::to_string(n));
    if (k > 64) I.fail("k = " + std::to_string(k) + ": at most 64 is supported (one pass over the axis per element kept)");
    if (k == 0) I.fail("k = 0 (empty outputs) is not supported");
    const bool largest = I.attrInt("largest", 1) != 0;
    const std::string s = I.out();
    const float away = largest ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
    const ValueRef masked = I.constantNode(Tensor::scalar(away), s + "/used");
    ValueRef left = x;
    std::vector<ValueRef> values, indices;
    for (std::int64_t r = 0; r < k; ++r) {
        const std::string step = s + "/" + std::to_string(r);
        const ValueRef at = I.emit(largest ? Op::ArgMax : Op::ArgMin, {left}, {{"axis", axis}, {"keepdims", std::int64_t(1)}, {"select_last_index", std::int64_t(0)}}, step + "/at");
        indices.push_back(at);
        values.push_back(I.emit(Op::GatherElements, {x, at}, {{"axis", axis}}, step + "/value"));
        if (r + 1 < k) {
            const ValueRef hit = equalsClassNumbers(I, I.emit(Op::Cast, {at}, {}, step + "/index"), axis, n, step + "/hit");
            left = I.emit(Op::Where, {hit, masked, left}, {}, step + "/left");
        }
    }
    const ValueRef v = values.size() == 1 ? I.emit(Op::Reshape, {values[0]}, {{"shape", Ints(I.shapeOf(values[0]).begin(), I.shapeOf(values[0]).end())}}, s)
                                          : I.emit(Op::Concat, values, {{"axis", axis}}, s);
    I.bindFloat(I.node().output(0), v);
    if (I.node().output_size() > 1 && !I.node().output(1).empty())
        I.bindIndices(I.node().output(1), indices.size() == 1 ? indices[0] : I.emit(Op::Concat, indices, {{"axis", axis}}, I.node().output(1)));
}

void trilu(Importer& I) {
    const ValueRef x = I.dataIn(0);  // any element type: where picks its values or a zero of its type
    const Shape& xs = I.shapeOf(x);
    if (xs.size() < 2) I.fail("needs an input of rank 2 or more");
    const bool upper = I.attrInt("upper", 1) != 0;
    std::int64_t k = 0;
    if (I.has(1)) {
        const Ints kv = I.constInts(1, "k");
        if (kv.size() != 1) I.fail("k must hold one value");
        k = kv[0];
    }
    const std::int64_t rows = I.staticDim(x, xs.size() - 2, "the rows"), cols = I.staticDim(x, xs.size() - 1, "the columns");
    if (rows * cols > (std::int64_t(1) << 24)) I.fail("a mask of more than 2^24 elements is not supported");
    std::vector<float> mask(static_cast<std::size_t>(rows * cols));
    for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t j = 0; j < cols; ++j) mask[std::size_t(i * cols + j)] = (upper ? j - i >= k : j - i <= k) ? 1.f : 0.f;
    const std::string s = I.out();
    const ValueRef zero = I.constantNode(I.typedConstant({}, {0}, I.graph().type(x).dtype, "zero"), s + "/zero");
    I.bindData(I.out(), I.emit(Op::Where, {I.constantNode(Tensor::fromVector({rows, cols}, mask), s + "/mask"), x, zero}, {}, s));
}

void cumSum(Importer& I) {
    // f64 values summed in double (a matmul in f64); others as float32
    const DType type = I.isIndices(0) && I.graph().type(I.value(0).ref).dtype == DType::F64 ? DType::F64 : DType::F32;
    const ValueRef x = type == DType::F64 ? I.value(0).ref : I.fin(0);
    const auto rank = std::int64_t(I.shapeOf(x).size());
    if (rank == 0) I.fail("needs an input of rank 1 or more");
    const Ints axisValues = I.constInts(1, "axis");
    if (axisValues.size() != 1) I.fail("axis must hold one value");
    const std::int64_t axis = normAxis(I, axisValues[0], rank, "axis");
    const bool exclusive = I.attrInt("exclusive", 0) != 0, reverse = I.attrInt("reverse", 0) != 0;
    const std::int64_t n = I.staticDim(x, std::size_t(axis), "the summed axis");
    if (n > 4096) I.fail("a summed axis longer than 4096 is not supported (its matrix has n x n elements)");
    // out[j] = sum_i x[i] * M[i][j]
    std::vector<std::int64_t> m(static_cast<std::size_t>(n * n), 0);
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            const bool take = reverse ? (exclusive ? i > j : i >= j) : (exclusive ? i < j : i <= j);
            m[std::size_t(i * n + j)] = take ? 1 : 0;
        }
    const std::string s = I.out();
    const ValueRef matrix = I.constantNode(I.typedConstant({n, n}, m, type, "the triangle"), s + "/triangle");
    if (axis == rank - 1) {
        I.bindData(I.out(), I.emit(Op::MatMul, {x, matrix}, {}, s));
        return;
    }
    Ints perm(static_cast<std::size_t>(rank));
    for (std::int64_t d = 0; d < rank; ++d) perm[std::size_t(d)] = d;
    std::swap(perm[std::size_t(axis)], perm.back());
    const ValueRef moved = I.emit(Op::Transpose, {x}, {{"perm", perm}}, s + "/axis_last");
    const ValueRef summed = I.emit(Op::MatMul, {moved, matrix}, {}, s + "/sums");
    I.bindData(I.out(), I.emit(Op::Transpose, {summed}, {{"perm", perm}}, s));
}

}  // namespace adj::onnx_io::ops
