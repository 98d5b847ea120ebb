#pragma once
// The ONNX importer's handlers, one per ONNX op (default domain), in files by kind: float values
// become nodes of the op table, integer tensors (shapes, axes, indices) are evaluated while
// importing (onnx_import_ints.cpp). onnx_import_ops.cpp maps ONNX op names to them;
// docs/ONNX.md describes each mapping. Internal to the importer.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "io/onnx_importer.h"

namespace adj::onnx_io::ops {

using Kind = Value::Kind;
using Ints = std::vector<std::int64_t>;

/// Largest integer tensor the importer evaluates (elements).
constexpr std::int64_t kMaxIntResult = std::int64_t(1) << 16;

inline Ints intsOr(const std::optional<Ints>& v, Ints def) { return v ? *v : std::move(def); }
inline std::vector<Sym> symDims(Importer& I, ValueRef v) { return I.symShape(v); }

// onnx_import_ints.cpp
Sym symOp(const Importer& I, const Sym& a, const Sym& b, char op);
/// Flat index into `in` (broadcast to `out`) of the element at flat index `i` of `out`.
std::int64_t broadcastSource(std::int64_t i, const Shape& out, const Shape& in);
IntTensor intMap(const IntTensor& a, const std::function<std::int64_t(std::int64_t)>& f);
Sym symScalar(const Importer& I, const IntTensor& t, const std::string& what);
std::int64_t normAxis(const Importer& I, std::int64_t axis, std::int64_t rank, const std::string& what);
IntTensor intGather(const Importer& I, const IntTensor& data, const Ints& indices, const Shape& indexShape, std::int64_t axis);
/// ONNX Slice's clamping of one axis: the indices taken, in order.
Ints sliceIndices(std::int64_t start, std::int64_t end, std::int64_t step, std::int64_t dim);
/// Resolves a Reshape target (ONNX: 0 copies the input dimension, -1 is inferred).
Shape reshapeTarget(const Importer& I, const Shape& in, const Ints& target, bool allowZero);
IntTensor intSlice(const Importer& I, const IntTensor& x, const Ints& starts, const Ints& ends, const Ints& axesIn, const Ints& steps);
IntTensor intConcat(const Importer& I, const std::vector<const IntTensor*>& ins, std::int64_t axis);
Shape unsqueezedShape(const Importer& I, const Shape& s, Ints axes);
IntTensor intTranspose(const Importer& I, const IntTensor& x, std::optional<Ints> perm);

template <class F>
inline IntTensor intBroadcast(const Importer& I, const std::vector<const IntTensor*>& ins, F f) {
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

// onnx_import_math.cpp
void elementwise(Importer& I, Op op, char intOp);
void unary(Importer& I, Op op);
/// Mod: integer tensors (fmod 0 or 1) while importing; float values with fmod 1 as a - b trunc(a / b).
void mod(Importer& I);
void variadic(Importer& I, Op op, char intOp);
void compare(Importer& I, char kind);
void logical(Importer& I, char kind);
void where(Importer& I);
void clip(Importer& I);
void reciprocal(Importer& I);
void gemm(Importer& I);
void softmax(Importer& I, Op op);
void reduce(Importer& I, Op op);
/// An elementwise op of the table read from the ONNX op its entry names: float inputs, and the
/// ONNX attributes that the op's schema declares (alpha, beta, gamma), checked against it.
void tableOp(Importer& I, Op op);

// onnx_import_composites.cpp
/// ReduceL1 ('1'), ReduceL2 ('2'), ReduceSumSquare ('s'), ReduceLogSum ('l'), ReduceLogSumExp
/// ('e') and ReduceMin ('m') as compositions of sum, max and elementwise ops.
void reduceComposite(Importer& I, char kind);
/// IsNaN (1 - (x == x)) and IsInf (x == +inf, x == -inf, as detect_positive and detect_negative
/// ask) as 0/1 masks.
void isNaN(Importer& I);
/// OneHot with a known depth and values: off + (on - off) * (index == class).
void oneHot(Importer& I);
/// TopK (k constant, at most 64): k rounds of argmax or argmin, each extreme masked out after it.
void topK(Importer& I);
void isInf(Importer& I);
/// Tile with constant repeats: copies joined along each repeated axis (any element type).
void tile(Importer& I);
/// EyeLike: a constant of the input's (static) shape with ones on diagonal k, of the type asked.
void eyeLike(Importer& I);
/// The variadic Mean: the inputs' sum over their count.
void mean(Importer& I);
/// Softsign, ThresholdedRelu, Shrink, PRelu, Celu, Sinh, Cosh, Tan, Asinh, Acosh, Atanh (the ONNX
/// op's name) as compositions of the table's elementwise ops.
void activationComposite(Importer& I, const std::string& kind);
/// InstanceNormalization: standardized over the spatial axes, then scale and bias per channel.
void instanceNorm(Importer& I);
/// MeanVarianceNormalization: standardized over `axes` (default 0, 2, 3).
void meanVarianceNorm(Importer& I);
/// DepthToSpace (DCR or CRD, `toSpace`) or SpaceToDepth: reshape, transpose, reshape.
void depthSpace(Importer& I, bool toSpace);

// onnx_import_einsum.cpp
/// Einsum without ellipses or diagonals: pairwise batched matmuls between transposes and sums.
void einsum(Importer& I);

// onnx_import_tensors.cpp
/// Puts the nodes made since `first` (not sources) in one collapsed group named `group`, so that
/// the canvas shows the ONNX node they implement as one node that opens.
void groupNodesSince(Importer& I, NodeId first, const std::string& group);
/// Zeros of shape [1.., dim, ..1] (rank `rank`, `dim` at `axis`) for a dynamic dimension, made from
/// a graph input that has it; fails when none has.
ValueRef dynamicZeros(Importer& I, const Sym& dim, std::size_t rank, std::size_t axis, const std::string& stem);
/// A float constant of a shape with dynamic dimensions: the fixed part as a constant, grown to the
/// dynamic sizes by adding dynamicZeros.
ValueRef dynamicFill(Importer& I, const std::vector<Sym>& shape, float value, const std::string& stem);

// onnx_import_shapes.cpp
/// ArgMax / ArgMin: an int64 value known when the graph runs (Gather's indices, a graph output).
void argExtreme(Importer& I, Op op);

// onnx_import_recurrent.cpp
/// LSTM ('l'), GRU ('g') or RNN ('r') unrolled over a static sequence, grouped as one layer.
void recurrent(Importer& I, char kind);

// onnx_import_resize.cpp
/// Resize with constant scales or sizes on the last two axes, as matmuls by interpolation matrices.
void resize(Importer& I);

// onnx_import_layers.cpp
/// pads for Conv and the pools, from pads / auto_pad (SAME_* needs constant spatial sizes).
/// Input i, which must be 4-D (NCHW); fails naming `what` otherwise.
ValueRef fourD(Importer& I, int i, const std::string& what);
void conv(Importer& I);
/// The node's Conv of x and w (1-D or 2-D, ONNX's attributes: strides, pads or auto_pad,
/// dilations, group, kernel_shape checked), with an optional bias; named `stem`.
ValueRef convolve(Importer& I, ValueRef x, ValueRef w, std::optional<ValueRef> bias, const std::string& stem);
void convTranspose(Importer& I);
void pool(Importer& I, Op op);
void globalMaxPool(Importer& I);
void batchNorm(Importer& I);
void layerNorm(Importer& I);

// onnx_import_shapes.cpp
void reshape(Importer& I);
void expand(Importer& I);
void flatten(Importer& I);
void transpose(Importer& I);
void squeeze(Importer& I);
void unsqueeze(Importer& I);
void concat(Importer& I);
void split(Importer& I);
void slice(Importer& I);
void gather(Importer& I);
/// GatherElements, and ScatterND with indices known while importing (onnx_import_scatter.cpp).
void gatherElements(Importer& I);
void scatterND(Importer& I);
/// GatherND (batch_dims 0): a gather of the data's rows at the index tuples' flat row numbers.
void gatherND(Importer& I);
/// ScatterElements (and the deprecated Scatter), reduction none or add.
void scatterElements(Importer& I);
/// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss through one-hot masks (onnx_import_losses.cpp).
void nllLossOp(Importer& I);
void softmaxCrossEntropyLoss(Importer& I);
/// 1 where `index` (float, size 1 on `axis`) equals c, for the class numbers c = 0..n-1 laid along
/// `axis`: a one-hot mask (Hardmax, the losses' targets).
ValueRef equalsClassNumbers(Importer& I, ValueRef index, std::int64_t axis, std::int64_t n, const std::string& stem);
/// Hardmax, Trilu and CumSum through constant masks and matrices (onnx_import_masks.cpp).
void hardmax(Importer& I);
void trilu(Importer& I);
void cumSum(Importer& I);
void pad(Importer& I);

// onnx_import_tensors.cpp
void identity(Importer& I);
void dropout(Importer& I);
void constant(Importer& I);
void constantOfShape(Importer& I);
void range(Importer& I);
void shapeOp(Importer& I);
void sizeOp(Importer& I);
void cast(Importer& I);
void castLike(Importer& I);
void bitShift(Importer& I);
// onnx_import_signal.cpp: kind h Hann, m Hamming, b Blackman
void window(Importer& I, char kind);
// onnx_import_quantize.cpp
void quantizeLinear(Importer& I);
// onnx_import_resize.cpp (with resize)
void upsample(Importer& I);
void compress(Importer& I);  // onnx_import_shapes.cpp
void nonZero(Importer& I);   // onnx_import_shapes.cpp
void lrn(Importer& I);       // onnx_import_layers.cpp
// onnx_import_optimizers.cpp (domain ai.onnx.preview.training)
void adagrad(Importer& I);
void momentum(Importer& I);
void adam(Importer& I);
void dequantizeLinear(Importer& I);
void dynamicQuantizeLinear(Importer& I);
void matMulInteger(Importer& I);
void qLinearMatMul(Importer& I);
void convInteger(Importer& I);
void qLinearConv(Importer& I);
void ifOp(Importer& I);

}  // namespace adj::onnx_io::ops
