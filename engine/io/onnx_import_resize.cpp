// ONNX Resize as matrix products: resizing one axis is a linear map of that axis, so for constant
// scales or sizes the importer computes each resized axis's interpolation matrix M [out, in]
// (nearest, linear or cubic weights under the node's coordinate transformation) and the result is
//     last axis:        x @ M^T        (matmul with a constant [in, out])
//     next-to-last:     M @ x          (matmul of a constant [out, in], batched over x's leading axes)
// which the executor, the cost model and autodiff know already (the gradient is M^T applied the
// same way). Only the last two axes may change (the spatial axes of NCL and NCHW inputs, as
// PyTorch's interpolate exports them); tf_crop_and_resize is refused. The price: a dense matrix
// costs in * out multiply-adds per row where a resize kernel would cost a few (docs/ONNX.md).
#include <cmath>

#include "io/onnx_import_ops.h"

namespace adj::onnx_io::ops {

namespace {

/// A resized length, and the dense interpolation matrix of one axis, are bounded: a file that
/// asks for more gets an error, never an overflow or an allocation of that size.
constexpr std::int64_t kMaxResizedLength = std::int64_t(1) << 20;
constexpr std::int64_t kMaxMatrixElements = std::int64_t(1) << 26;

struct ResizeMode {
    std::string mode, transform, nearest;
    double cubicA = -0.75;
    bool excludeOutside = false;
};

/// The input coordinate that output index o reads, ONNX's coordinate_transformation_mode. The
/// resized length is in * scale before rounding down, as ONNX's reference uses it (with scales
/// 0.6 on 4 elements, align_corners spreads 2 outputs over a length of 2.4).
double sourceCoordinate(const ResizeMode& m, double o, double scale, std::int64_t in) {
    const std::string& t = m.transform;
    const double length = double(in) * scale;
    if (t == "half_pixel") return (o + 0.5) / scale - 0.5;
    if (t == "pytorch_half_pixel") return length > 1 ? (o + 0.5) / scale - 0.5 : 0.0;
    if (t == "align_corners") return length == 1 ? 0.0 : o * double(in - 1) / (length - 1);
    if (t == "asymmetric") return o / scale;
    return (o + 0.5) / scale;  // tf_half_pixel_for_nn
}

std::int64_t clampIndex(std::int64_t i, std::int64_t in) { return std::max<std::int64_t>(0, std::min(i, in - 1)); }

std::int64_t nearestIndex(const std::string& mode, double x) {
    const double f = std::floor(x);
    if (mode == "floor") return std::int64_t(f);
    if (mode == "ceil") return std::int64_t(std::ceil(x));
    if (x - f == 0.5) return std::int64_t(mode == "round_prefer_ceil" ? f + 1 : f);
    return std::int64_t(std::round(x));
}

/// Keys' cubic convolution weight at distance d (coefficient a).
double cubicWeight(double d, double a) {
    d = std::abs(d);
    if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
    if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
    return 0;
}

/// M [out, in]: row o holds the weights output o gives each input.
Tensor interpolationMatrix(const ResizeMode& m, std::int64_t in, std::int64_t out, double scale) {
    std::vector<float> w(std::size_t(out * in), 0.f);
    auto add = [&](std::int64_t o, std::int64_t i, double v) { w[std::size_t(o * in + i)] += float(v); };
    for (std::int64_t o = 0; o < out; ++o) {
        const double x = sourceCoordinate(m, double(o), scale, in);
        if (m.mode == "nearest") {
            add(o, clampIndex(nearestIndex(m.nearest, x), in), 1.0);
        } else if (m.mode == "linear") {
            const double f = std::floor(x), t = x - f;
            add(o, clampIndex(std::int64_t(f), in), 1 - t);
            add(o, clampIndex(std::int64_t(f) + 1, in), t);
        } else {  // cubic: four taps around x
            const double f = std::floor(x), t = x - f;
            double taps[4], total = 0;
            std::int64_t idx[4];
            for (int k = 0; k < 4; ++k) {
                idx[k] = std::int64_t(f) - 1 + k;
                taps[k] = cubicWeight(t - (k - 1), m.cubicA);
                if (m.excludeOutside && (idx[k] < 0 || idx[k] >= in)) taps[k] = 0;
                total += taps[k];
            }
            for (int k = 0; k < 4; ++k) add(o, clampIndex(idx[k], in), m.excludeOutside && total != 0 ? taps[k] / total : taps[k]);
        }
    }
    return Tensor::fromVector({out, in}, w);
}

/// The float values of input i when they are known while importing (a constant or initializer).
std::vector<float> constantFloats(Importer& I, int i, const std::string& what) {
    const Value& v = I.value(i);
    Tensor t;
    if (v.kind == Value::Kind::PendingConstant) t = v.constant;
    else if (v.kind == Value::Kind::Float && (I.graph().node(v.ref.node).op == Op::Constant || I.graph().node(v.ref.node).op == Op::Parameter))
        t = I.graph().node(v.ref.node).value;
    else if (const Tensor* known = v.kind == Value::Kind::Float ? I.knownInput(v.ref) : nullptr)
        t = *known;  // a graph input given before importing
    else I.fail(what + " must be a constant, or a graph input whose value is given (a value computed while running is not supported)");
    return t.toVector();  // an int64 value given for a float input too
}

}  // namespace

namespace {
void resample(Importer& I, const ResizeMode& m, const std::optional<std::vector<float>>& scalesGiven, int sizesIndex);
}  // namespace

void resize(Importer& I) {
    ResizeMode m{I.attrString("mode", "nearest"), I.attrString("coordinate_transformation_mode", "half_pixel"),
                 I.attrString("nearest_mode", "round_prefer_floor"), I.attrFloat("cubic_coeff_a", -0.75), I.attrInt("exclude_outside", 0) != 0};
    if (m.mode != "nearest" && m.mode != "linear" && m.mode != "cubic") I.fail("mode '" + m.mode + "' is not nearest, linear or cubic");
    auto oneOf = [](const std::string& s, std::initializer_list<const char*> options) {
        for (const char* o : options)
            if (s == o) return true;
        return false;
    };
    if (!oneOf(m.transform, {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"}))
        I.fail("coordinate_transformation_mode '" + m.transform + "' is not supported");
    if (!oneOf(m.nearest, {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})) I.fail("nearest_mode '" + m.nearest + "' is not supported");
    std::optional<std::vector<float>> scales;
    if (!I.has(3) && I.has(2)) scales = constantFloats(I, 2, "scales");
    resample(I, m, scales, I.has(3) ? 3 : -1);
}

void upsample(Importer& I) {
    // opsets 7 to 9's Resize: scales (an attribute in 7 and 8, input 1 from 9), each output
    // index i reading input index floor(i / scale) ("asymmetric", nearest rounding down)
    const std::string mode = I.attrString("mode", "nearest");
    if (mode != "nearest" && mode != "linear") I.fail("mode '" + mode + "' is not nearest or linear");
    const ResizeMode m{mode, "asymmetric", "floor", -0.75, false};
    std::vector<float> scales;
    if (I.opset() >= 9) {
        if (!I.has(1)) I.fail("needs scales (input 1)");
        scales = constantFloats(I, 1, "scales");
    } else {
        const auto* a = I.attr("scales");
        if (!a) I.fail("attribute 'scales' is missing");
        scales.assign(a->floats().begin(), a->floats().end());
    }
    resample(I, m, scales, -1);
}

namespace {

void resample(Importer& I, const ResizeMode& m, const std::optional<std::vector<float>>& scalesGiven, int sizesIndex) {
    const ValueRef x = I.fin(0);
    const Shape& in = I.shapeOf(x);
    const std::vector<Sym> sym = I.symShape(x);
    const auto rank = std::int64_t(in.size());
    std::vector<std::int64_t> out(in.begin(), in.end());
    std::vector<double> scale(in.size(), 1.0);
    if (sizesIndex >= 0) {  // sizes: leading entries must be the input's own (possibly dynamic) sizes
        const IntTensor& sizes = I.iin(sizesIndex, "sizes");
        if (std::int64_t(sizes.data.size()) != rank) I.fail("sizes has " + std::to_string(sizes.data.size()) + " entries for an input of rank " + std::to_string(rank));
        for (std::int64_t a = 0; a < rank; ++a) {
            const Sym& s = sizes.data[std::size_t(a)];
            if (s == sym[std::size_t(a)]) continue;
            if (!symIsConst(s) || s[0] < 1) I.fail("size " + std::to_string(a) + " must be a positive constant");
            if (s[0] > kMaxResizedLength) I.fail("size " + std::to_string(a) + " is beyond 2^20");
            out[std::size_t(a)] = s[0];
            scale[std::size_t(a)] = double(s[0]) / double(in[std::size_t(a)]);
        }
    } else if (scalesGiven) {
        const std::vector<float>& sc = *scalesGiven;
        if (std::int64_t(sc.size()) != rank) I.fail("scales has " + std::to_string(sc.size()) + " entries for an input of rank " + std::to_string(rank));
        for (std::int64_t a = 0; a < rank; ++a) {
            if (!(sc[std::size_t(a)] > 0)) I.fail("scale " + std::to_string(a) + " must be positive");
            scale[std::size_t(a)] = sc[std::size_t(a)];
            const double length = std::floor(double(in[std::size_t(a)]) * sc[std::size_t(a)]);
            if (!(length <= double(kMaxResizedLength))) I.fail("scale " + std::to_string(a) + " makes a length beyond 2^20");
            out[std::size_t(a)] = std::int64_t(length);
            if (out[std::size_t(a)] < 1) I.fail("scale " + std::to_string(a) + " leaves no element");
        }
    } else {
        I.fail("needs scales or sizes");
    }
    ValueRef y = x;
    const std::int64_t first = std::max<std::int64_t>(0, rank - 2);
    for (std::int64_t a = 0; a < first; ++a)
        if (out[std::size_t(a)] != in[std::size_t(a)] || scale[std::size_t(a)] != 1.0)
            I.fail("resizing axis " + std::to_string(a) + " is not supported (only the last two axes, the spatial ones of NCL and NCHW inputs)");
    std::vector<std::int64_t> resized;
    for (std::int64_t a = first; a < rank; ++a)
        if (out[std::size_t(a)] != in[std::size_t(a)] || scale[std::size_t(a)] != 1.0) resized.push_back(a);
    for (std::int64_t a : resized) {
        if (!symIsConst(sym[std::size_t(a)])) I.fail("resizing axis " + std::to_string(a) + ", a dynamic dimension (" + I.dynamicNote() + "), is not supported");
        if (in[std::size_t(a)] * out[std::size_t(a)] > kMaxMatrixElements)
            I.fail("resizing axis " + std::to_string(a) + " from " + std::to_string(in[std::size_t(a)]) + " to " + std::to_string(out[std::size_t(a)]) +
                   " needs an interpolation matrix of more than 2^26 elements");
        const Tensor M = interpolationMatrix(m, in[std::size_t(a)], out[std::size_t(a)], scale[std::size_t(a)]);
        const bool last = a == resized.back();
        const std::string name = last ? I.out() : I.out() + "/axis" + std::to_string(a);
        if (a == rank - 1) y = I.emit(Op::MatMul, {y, I.constantNode(M.transpose(0, 1).contiguous(), I.out() + "/weights" + std::to_string(a))}, {}, name);
        else y = I.emit(Op::MatMul, {I.constantNode(M, I.out() + "/weights" + std::to_string(a)), y}, {}, name);
    }
    I.bindFloat(I.out(), y);
}

}  // namespace

}  // namespace adj::onnx_io::ops
