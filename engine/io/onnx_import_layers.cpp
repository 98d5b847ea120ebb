// Handlers of the neural-network layers: convolutions, pooling (1-D and 2-D) and normalization.
#include <algorithm>
#include <climits>
#include <cmath>
#include <functional>
#include <numeric>

#include "io/onnx_import_ops.h"
#include "base/errors.h"

namespace adj::onnx_io::ops {

// 1-D layers ([N, C, L]) run as 2-D ones over [N, C, 1, L]: the input (and a convolution's weight)
// gets a unit height, each attribute a leading identity value (stride, dilation and kernel 1, no
// padding), and the result loses the height again. 3-D layers are refused.

/// The number of spatial axes of x (1 or 2); fails naming `what` for any other.
std::size_t spatialRank(Importer& I, ValueRef x, const std::string& what) {
    const std::size_t r = I.shapeOf(x).size();
    if (r != 3 && r != 4)
        I.fail("only 1-D and 2-D " + what + " (a 3-D [N, C, L] or 4-D [N, C, H, W] input) are supported; the input has shape " +
               shapeToString(I.shapeOf(x)));
    return r - 2;
}

/// x with a unit height inserted at axis 2 when it is 1-D.
ValueRef withHeight(Importer& I, ValueRef x, std::size_t rank, const std::string& stem) {
    return rank == 2 ? x : I.emit(Op::Unsqueeze, {x}, {{"axes", Ints{2}}}, stem);
}

/// An attribute with one value per spatial axis (`rank` of them), as two values: a 1-D op's value
/// after `identity` for the unit height.
Ints spatialValues(Importer& I, const std::string& name, Ints def, std::size_t rank, std::int64_t identity) {
    Ints v = intsOr(I.attrInts(name), std::move(def));
    if (v.size() != rank)
        I.fail("attribute '" + name + "' must have " + std::to_string(rank) + " value" + (rank == 1 ? "" : "s") + " for a " +
               std::to_string(rank) + "-D op, got " + std::to_string(v.size()));
    for (auto x : v)
        if (x < -(1 << 20) || x > (1 << 20)) I.fail("attribute '" + name + "' holds " + std::to_string(x) + ", beyond 2^20");
    if (rank == 1) v.insert(v.begin(), identity);
    return v;
}

/// pads (begin, end per axis, ONNX order) as the 2-D [top, left, bottom, right].
Ints explicitPads(Importer& I, std::size_t rank) {
    Ints pads = intsOr(I.attrInts("pads"), Ints(2 * rank, 0));
    if (pads.size() != 2 * rank) I.fail("pads must have " + std::to_string(2 * rank) + " values for a " + std::to_string(rank) + "-D op, got " + std::to_string(pads.size()));
    for (auto p : pads) {
        if (p < 0) I.fail("negative pads are not supported");
        if (p > (1 << 20)) I.fail("pads of " + std::to_string(p) + " are beyond 2^20");
    }
    if (rank == 1) return {0, pads[0], 0, pads[1]};
    return pads;
}

/// pads for Conv and the pools, from pads / auto_pad (SAME_* needs constant spatial sizes); x is
/// the 2-D view.
Ints spatialPads(Importer& I, ValueRef x, std::size_t rank, const Ints& kernel, const Ints& strides, const Ints& dilations) {
    const std::string autoPad = I.attrString("auto_pad", "NOTSET");
    if (autoPad == "NOTSET" || autoPad.empty()) return explicitPads(I, rank);
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

ValueRef fourD(Importer& I, int i, const std::string& what) {
    ValueRef x = I.fin(i);
    if (I.shapeOf(x).size() != 4) I.fail("only 2-D " + what + " (4-D NCHW input) is supported; the input has shape " + shapeToString(I.shapeOf(x)));
    return x;
}

/// The result of a 2-D op back in the op's own rank, bound to the node's output.
void bindSpatial(Importer& I, ValueRef y, std::size_t rank) {
    if (rank == 1) y = I.emit(Op::Squeeze, {y}, {{"axes", Ints{2}}}, I.out());
    I.bindFloat(I.out(), y);
}

ValueRef convolve(Importer& I, ValueRef x0, ValueRef w0, std::optional<ValueRef> bias, const std::string& stem0) {
    const std::size_t rank = spatialRank(I, x0, "convolutions");
    const Shape& ws0 = I.shapeOf(w0);
    if (ws0.size() != rank + 2) I.fail("the weight must be " + std::to_string(rank + 2) + "-D, got " + shapeToString(ws0));
    const Ints kernelAttr(ws0.begin() + 2, ws0.end());
    if (auto k = I.attrInts("kernel_shape"); k && *k != kernelAttr) I.fail("kernel_shape " + attrValueToString(*k) + " does not match the weight " + shapeToString(ws0));
    const std::string stem = stem0 + (rank == 1 ? "/2d" : "");
    const ValueRef x = withHeight(I, x0, rank, stem + "_input"), w = withHeight(I, w0, rank, stem + "_weight");
    const Shape& ws = I.shapeOf(w);
    const Ints kernel{ws[2], ws[3]};
    const Ints strides = spatialValues(I, "strides", Ints(rank, 1), rank, 1), dilations = spatialValues(I, "dilations", Ints(rank, 1), rank, 1);
    const Ints pads = spatialPads(I, x, rank, kernel, strides, dilations);
    std::vector<ValueRef> ins{x, w};
    if (bias) ins.push_back(*bias);
    Attributes at{{"strides", strides}, {"pads", pads}, {"dilations", dilations}, {"group", I.attrInt("group", 1)}};
    const ValueRef y = I.emit(Op::Conv2d, ins, at, rank == 1 ? stem : stem0);
    return rank == 1 ? I.emit(Op::Squeeze, {y}, {{"axes", Ints{2}}}, stem0) : y;
}

void conv(Importer& I) {
    const ValueRef x = I.fin(0), w = I.fin(1);
    const std::optional<ValueRef> bias = I.has(2) ? std::optional<ValueRef>(I.fin(2)) : std::nullopt;
    I.bindFloat(I.out(), convolve(I, x, w, bias, I.out()));
}

void convTranspose(Importer& I) {
    // conv2d_grad_input (the exporter writes it as ConvTranspose), then the bias
    ValueRef g0 = I.fin(0);
    const std::size_t rank = spatialRank(I, g0, "transposed convolutions");
    ValueRef w0 = I.fin(1);
    const Shape& ws0 = I.shapeOf(w0);
    if (ws0.size() != rank + 2) I.fail("the weight must be " + std::to_string(rank + 2) + "-D, got " + shapeToString(ws0));
    if (auto k = I.attrInts("kernel_shape"); k && *k != Ints(ws0.begin() + 2, ws0.end()))
        I.fail("kernel_shape " + attrValueToString(*k) + " does not match the weight " + shapeToString(ws0));
    const std::string stem = I.out() + "/transposed";
    const ValueRef g = withHeight(I, g0, rank, stem + "_input"), w = withHeight(I, w0, rank, stem + "_weight");
    const Shape& ws = I.shapeOf(w);
    const Shape& gs = I.shapeOf(g);
    const Ints strides = spatialValues(I, "strides", Ints(rank, 1), rank, 1), dilations = spatialValues(I, "dilations", Ints(rank, 1), rank, 1);
    Ints outPad = spatialValues(I, "output_padding", Ints(rank, 0), rank, 0);
    const std::int64_t group = I.attrInt("group", 1);
    if (group <= 0 || ws[0] != gs[1]) I.fail("the weight " + shapeToString(ws0) + " does not match the input " + shapeToString(I.shapeOf(g0)));
    const std::string autoPad = I.attrString("auto_pad", "NOTSET");
    if (autoPad != "NOTSET" && !autoPad.empty() && autoPad != "VALID" && autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
        I.fail("auto_pad '" + autoPad + "' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
    // the size without padding, then pads: given, or what output_shape (or SAME) asks for
    auto natural = [&](std::size_t a) { return strides[a] * (gs[2 + a] - 1) + outPad[a] + (ws[2 + a] - 1) * dilations[a] + 1; };
    Ints pads{0, 0, 0, 0};
    std::optional<Ints> wanted;
    if (auto os = I.attrInts("output_shape")) {
        Ints v = *os;
        if (v.size() == rank + 2) v.erase(v.begin(), v.begin() + 2);  // some writers give N and C too
        if (v.size() != rank) I.fail("output_shape must have " + std::to_string(rank) + " values, got " + std::to_string(os->size()));
        for (auto x : v)
            if (x < 0 || x > kMaxElements) I.fail("output_shape holds " + std::to_string(x));
        if (rank == 1) v.insert(v.begin(), 1);
        wanted = v;
    } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
        wanted = Ints{gs[2] * strides[0], gs[3] * strides[1]};
    } else if (autoPad != "VALID") {
        if (I.attr("pads")) pads = explicitPads(I, rank);
    }
    if (wanted) {
        if (I.attr("pads") && I.attr("output_shape")) I.fail("pads and output_shape are both given");
        for (std::size_t a = 0; a < 2; ++a) {
            const std::int64_t total = natural(a) - (*wanted)[a];
            if (total < 0) {  // larger than the natural size: the extra rows are output padding
                outPad[a] -= total;
                continue;
            }
            const std::int64_t small = total / 2, large = total - small;
            pads[a] = autoPad == "SAME_UPPER" ? small : large;
            pads[a + 2] = total - pads[a];
        }
    }
    Ints inputShape{gs[0], ws[1] * group};
    for (std::size_t a = 0; a < 2; ++a) {
        if (outPad[a] < 0 || outPad[a] >= std::max(strides[a], dilations[a])) I.fail("output_padding must be in [0, max(stride, dilation))");
        inputShape.push_back(natural(a) - pads[a] - pads[a + 2]);
    }
    Attributes at{{"strides", strides}, {"pads", pads}, {"dilations", dilations}, {"group", group}, {"input_shape", inputShape}};
    ValueRef y = I.emit(Op::Conv2dGradInput, {g, w}, at, I.has(2) || rank == 1 ? stem : I.out());
    if (I.has(2)) {
        const ValueRef bias = I.fin(2);
        if (I.shapeOf(bias) != Shape{inputShape[1]}) I.fail("the bias must hold one value per output channel (" + std::to_string(inputShape[1]) + ")");
        const ValueRef b4 = I.emit(Op::Reshape, {bias}, {{"shape", Ints{1, inputShape[1], 1, 1}}}, I.out() + "/bias");
        y = I.emit(Op::Add, {y, b4}, {}, rank == 1 ? I.out() + "/biased" : I.out());
    }
    bindSpatial(I, y, rank);
}

void pool(Importer& I, Op op) {
    const bool isMax = op == Op::MaxPool;
    ValueRef x0 = I.fin(0);
    const std::size_t rank = spatialRank(I, x0, "pooling");
    if (isMax) I.requireUnused(1, "the indices");
    const ValueRef x = withHeight(I, x0, rank, I.out() + "/2d_input");
    const Ints kernel = spatialValues(I, "kernel_shape", {}, rank, 1);
    const Ints strides = spatialValues(I, "strides", Ints(rank, 1), rank, 1);
    if (auto d = I.attrInts("dilations"); d && std::any_of(d->begin(), d->end(), [](std::int64_t v) { return v != 1; }))
        I.fail("dilated pooling is not supported");
    Ints pads = spatialPads(I, x, rank, kernel, strides, {1, 1});
    std::int64_t includePad = isMax ? 0 : (I.attrInt("count_include_pad", 0) != 0 ? 1 : 0);
    const bool padded = std::any_of(pads.begin(), pads.end(), [](std::int64_t p) { return p > 0; });  // given or SAME
    if (I.attrInt("ceil_mode", 0)) {
        // the output size rounded up, as PyTorch has it: extra padding at the end, with the last
        // window starting inside the input or its leading padding
        const auto dims = symDims(I, x);
        bool extended = false;
        for (std::size_t a = 0; a < 2; ++a) {
            if (!symIsConst(dims[2 + a])) I.fail("ceil_mode=1 on a dynamic spatial dimension is not supported");
            const std::int64_t in = dims[2 + a][0], span = in + pads[a] + pads[a + 2];
            if (span < kernel[a] || strides[a] <= 0) continue;  // the op names the problem
            std::int64_t out = (span - kernel[a] + strides[a] - 1) / strides[a] + 1;
            if ((out - 1) * strides[a] >= in + pads[a]) --out;
            const std::int64_t extra = (out - 1) * strides[a] + kernel[a] - span;
            if (extra > 0) {
                pads[a + 2] += extra;
                extended = true;
            }
        }
        // the extra padding never counts in an average; the declared padding does with
        // count_include_pad, which one divisor per window cannot say when both are there
        if (extended && includePad) {
            if (padded) I.fail("ceil_mode=1 with count_include_pad=1 and padding is not supported");
            includePad = 0;  // no declared padding: counting the padding or not is the same
        }
    }
    Attributes at{{"kernel", kernel}, {"strides", strides}, {"pads", pads}};
    if (!isMax) at.set("count_include_pad", includePad);
    bindSpatial(I, I.emit(op, {x}, at, rank == 1 ? I.out() + "/2d" : I.out()), rank);
    // integer values (uint8 images) pooled as float32, which holds them exactly (the cast in
    // refuses any beyond 2^24): the maximum is one of them, given back in their type
    if (const DType type = I.isIndices(0) ? I.graph().type(I.value(0).ref).dtype : DType::F32; isMax && isInteger(type)) {
        const ValueRef pooled = I.valueNamed(I.out()).ref;
        I.bindIndices(I.out(), I.emit(Op::Cast, {pooled}, {{"to", std::string(dtypeName(type))}}, I.out() + "/" + std::string(dtypeName(type))));
    }
}

void globalMaxPool(Importer& I) {
    ValueRef x = I.fin(0);
    const auto rank = std::int64_t(I.shapeOf(x).size());
    if (rank < 3) I.fail("input must be N, C and spatial dimensions");
    Ints axes;
    for (std::int64_t a = 2; a < rank; ++a) axes.push_back(a);
    I.bindFloat(I.out(), I.emit(Op::Max, {x}, {{"axes", axes}, {"keepdims", std::int64_t(1)}}, I.out()));
}

void lrn(Importer& I) {
    // y = x / (bias + alpha / size * (sum of x^2 over `size` channels around c))^beta: the sums
    // as an average pool (padding counted) over the channel axis of [N, 1, C, rest]
    const ValueRef x = I.fin(0);
    const Shape shape = I.staticShape(x, "the input");
    if (shape.size() < 2) I.fail("LRN takes an input of rank 2 or more ([N, C, ...]), got " + shapeToString(shape));
    const std::int64_t size = I.attrInt("size", 0);
    if (size < 1) I.fail("attribute 'size' must be a positive integer, got " + std::to_string(size));
    const double alpha = I.attrFloat("alpha", 1e-4), beta = I.attrFloat("beta", 0.75), bias = I.attrFloat("bias", 1.0);
    std::int64_t rest = 1;
    for (std::size_t d = 2; d < shape.size(); ++d) rest *= shape[d];
    const std::string s = I.out();
    const ValueRef squares = I.emit(Op::Mul, {x, x}, {}, s + "/square");
    const ValueRef columns = I.emit(Op::Reshape, {squares}, {{"shape", Ints{shape[0], 1, shape[1], rest}}}, s + "/channels_as_rows");
    const Ints pads{(size - 1) / 2, 0, size / 2, 0};  // (size - 1) / 2 before, the rest after
    const ValueRef mean = I.emit(Op::AvgPool, {columns}, {{"kernel", Ints{size, 1}}, {"strides", Ints{1, 1}}, {"pads", pads}, {"count_include_pad", std::int64_t(1)}},
                                 s + "/window_mean");
    const ValueRef back = I.emit(Op::Reshape, {mean}, {{"shape", Ints(shape.begin(), shape.end())}}, s + "/window_mean_nchw");
    // alpha / size * sum = alpha * mean
    const ValueRef base = I.emit(Op::Add, {I.constantNode(Tensor::scalar(float(bias)), s + "/bias"),
                                           I.emit(Op::Mul, {back, I.constantNode(Tensor::scalar(float(alpha)), s + "/alpha")}, {}, s + "/scaled")},
                                 {}, s + "/base");
    const ValueRef denominator = I.emit(Op::Pow, {base, I.constantNode(Tensor::scalar(float(beta)), s + "/beta")}, {}, s + "/denominator");
    I.bindFloat(s, I.emit(Op::Div, {x, denominator}, {}, s));
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
    const double eps = I.attrFloat("epsilon", 1e-5);
    I.bindFloat(I.out(), I.emit(Op::LayerNorm, ins, {{"axis", axisAttr}, {"epsilon", eps}}, I.out()));
    // The optional outputs, when read: the mean and 1 / sqrt(variance + epsilon) over the
    // normalized axes, kept as size-1 dimensions (ONNX's shapes), computed beside the layernorm.
    if (!I.outputUsed(1) && !I.outputUsed(2)) return;
    Ints axes;
    for (std::int64_t a = axis; a < std::int64_t(s.size()); ++a) axes.push_back(a);
    const Attributes keep{{"axes", axes}, {"keepdims", std::int64_t(1)}};
    const std::string stem = I.out() + "/stats";
    const ValueRef mean = I.emit(Op::Mean, {x}, keep, I.outputUsed(1) ? I.out(1) : stem + "/mean");
    if (I.outputUsed(1)) I.bindFloat(I.out(1), mean);
    if (!I.outputUsed(2)) return;
    const ValueRef d = I.emit(Op::Sub, {x, mean}, {}, stem + "/centered");
    const ValueRef var = I.emit(Op::Mean, {I.emit(Op::Mul, {d, d}, {}, stem + "/square")}, keep, stem + "/variance");
    const ValueRef sd = I.emit(Op::Sqrt, {I.emit(Op::Add, {var, I.constantNode(Tensor::scalar(float(eps)), stem + "/epsilon")}, {}, stem + "/shifted")}, {},
                               stem + "/std");
    I.bindFloat(I.out(2), I.emit(Op::Div, {I.constantNode(Tensor::scalar(1.f), stem + "/one"), sd}, {}, I.out(2)));
}

}  // namespace adj::onnx_io::ops
