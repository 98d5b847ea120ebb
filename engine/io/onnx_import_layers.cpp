// Handlers of the neural-network layers: convolutions, pooling and normalization (2-D, NCHW).
#include <algorithm>
#include <climits>
#include <cmath>
#include <functional>
#include <numeric>

#include "io/onnx_import_ops.h"
#include "base/errors.h"

namespace adj::onnx_io::ops {

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
