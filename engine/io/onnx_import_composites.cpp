// ONNX ops read as small compositions of the op table's ops (the last node carries the ONNX
// output's name): the reductions ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum,
// ReduceLogSumExp and ReduceMin; the variadic Mean; and the activations Softsign,
// ThresholdedRelu, Shrink, PRelu, Celu, Sinh, Cosh, Tan, Asinh, Acosh and Atanh; the
// normalizations InstanceNormalization and MeanVarianceNormalization; DepthToSpace and
// SpaceToDepth as reshape, transpose, reshape. Each is differentiated, costed and run through its
// parts.
#include "io/onnx_import_ops.h"

#include <limits>

namespace adj::onnx_io::ops {

namespace {

/// The reduction's attributes (axes from the attribute: these ops take them as an input only
/// from opset 18, which this importer does not read) with keepdims `keep`.
Attributes reduceAttrs(Importer& I, bool keep) {
    Attributes at{{"keepdims", std::int64_t(keep)}};
    if (const auto axes = I.axesOf(1, 18); axes && !axes->empty()) at.set("axes", *axes);
    return at;
}

bool keepDims(Importer& I) { return I.attrInt("keepdims", 1) != 0; }

ValueRef scalar(Importer& I, float v, const std::string& what) { return I.constantNode(Tensor::scalar(v), I.out() + "/" + what); }

}  // namespace

void reduceComposite(Importer& I, char kind) {
    // f64 values in double (every op below computes in it); ReduceProd's sign in float32 only
    const bool f64 = kind != 'p' && I.isIndices(0) && I.graph().type(I.value(0).ref).dtype == DType::F64;
    const ValueRef x = f64 ? I.value(0).ref : I.fin(0);
    const std::string& y = I.out();
    const Attributes at = reduceAttrs(I, keepDims(I));
    switch (kind) {
        case '1':  // ReduceL1: sum |x|
            I.bindData(y, I.emit(Op::Sum, {I.emit(Op::Abs, {x}, {}, y + "/abs")}, at, y));
            return;
        case '2':  // ReduceL2: sqrt(sum x^2)
            I.bindData(y, I.emit(Op::Sqrt, {I.emit(Op::Sum, {I.emit(Op::Mul, {x, x}, {}, y + "/square")}, at, y + "/sum")}, {}, y));
            return;
        case 's':  // ReduceSumSquare
            I.bindData(y, I.emit(Op::Sum, {I.emit(Op::Mul, {x, x}, {}, y + "/square")}, at, y));
            return;
        case 'l':  // ReduceLogSum
            I.bindData(y, I.emit(Op::Log, {I.emit(Op::Sum, {x}, at, y + "/sum")}, {}, y));
            return;
        case 'e': {  // ReduceLogSumExp, shifted by the maximum so that exp cannot overflow
            const ValueRef m = I.emit(Op::Max, {x}, reduceAttrs(I, true), y + "/max");
            const ValueRef mOut = keepDims(I) ? m : I.emit(Op::Max, {x}, at, y + "/max_out");
            const ValueRef e = I.emit(Op::Exp, {I.emit(Op::Sub, {x, m}, {}, y + "/shifted")}, {}, y + "/exp");
            I.bindData(y, I.emit(Op::Add, {I.emit(Op::Log, {I.emit(Op::Sum, {e}, at, y + "/sum")}, {}, y + "/log"), mOut}, {}, y));
            return;
        }
        case 'm':  // ReduceMin: -max(-x)
            I.bindData(y, I.emit(Op::Neg, {I.emit(Op::Max, {I.emit(Op::Neg, {x}, {}, y + "/neg")}, at, y + "/max")}, {}, y));
            return;
        case 'p': {  // ReduceProd: (-1)^(negatives) exp(sum log |x|); a zero makes log -inf and the product 0
            const ValueRef magnitude = I.emit(Op::Exp, {I.emit(Op::Sum, {I.emit(Op::Log, {I.emit(Op::Abs, {x}, {}, y + "/abs")}, {}, y + "/log")}, at, y + "/sum")}, {}, y + "/magnitude");
            const ValueRef negatives = I.emit(Op::Sum, {I.emit(Op::Greater, {scalar(I, 0.f, "zero"), x}, {}, y + "/negative")}, at, y + "/negatives");
            // parity p = n - 2 floor(n / 2); sign = 1 - 2p
            const ValueRef half = I.emit(Op::Floor, {I.emit(Op::Mul, {negatives, scalar(I, 0.5f, "half")}, {}, y + "/halved")}, {}, y + "/floor");
            const ValueRef parity = I.emit(Op::Sub, {negatives, I.emit(Op::Mul, {half, scalar(I, 2.f, "two")}, {}, y + "/even")}, {}, y + "/parity");
            const ValueRef sign = I.emit(Op::Sub, {scalar(I, 1.f, "one"), I.emit(Op::Mul, {parity, scalar(I, 2.f, "two_")}, {}, y + "/flip")}, {}, y + "/sign");
            I.bindData(y, I.emit(Op::Mul, {sign, magnitude}, {}, y));
            return;
        }
        default:
            I.fail("internal: unknown reduction");
    }
}

void isNaN(Importer& I) {
    const ValueRef x = I.fin(0);
    const std::string& y = I.out();
    I.bindFloat(y, I.emit(Op::Sub, {scalar(I, 1.f, "one"), I.emit(Op::Equal, {x, x}, {}, y + "/is_number")}, {}, y), true);
}

void isInf(Importer& I) {
    const ValueRef x = I.fin(0);
    const std::string& y = I.out();
    const bool positive = I.attrInt("detect_positive", 1) != 0, negative = I.attrInt("detect_negative", 1) != 0;
    const float inf = std::numeric_limits<float>::infinity();
    ValueRef r = scalar(I, 0.f, "none");
    if (positive) r = I.emit(Op::Equal, {x, scalar(I, inf, "inf")}, {}, negative ? y + "/positive" : y);
    if (negative) {
        const ValueRef n = I.emit(Op::Equal, {x, scalar(I, -inf, "minus_inf")}, {}, positive ? y + "/negative" : y);
        r = positive ? I.emit(Op::Maximum, {r, n}, {}, y) : n;
    }
    if (!positive && !negative) {  // all false, of x's shape: (x == x) - (x == x), 0 for NaN too
        const ValueRef same = I.emit(Op::Equal, {x, x}, {}, y + "/same");
        r = I.emit(Op::Sub, {same, same}, {}, y);
    }
    I.bindFloat(y, r, true);
}

void tile(Importer& I) {
    const std::vector<std::int64_t> repeats = I.constInts(1, "the repeats");
    ValueRef x = I.dataIn(0);
    const Shape& shape = I.shapeOf(x);
    if (repeats.size() != shape.size())
        I.fail(std::to_string(repeats.size()) + " repeats for an input of rank " + std::to_string(shape.size()));
    std::int64_t total = numel(shape);
    for (std::size_t a = 0; a < repeats.size(); ++a) {
        if (repeats[a] < 0) I.fail("repeats must not be negative, got " + std::to_string(repeats[a]));
        if (repeats[a] > 1 && total > kMaxElements / repeats[a]) I.fail("the tiled tensor would be too large");
        total *= std::max<std::int64_t>(repeats[a], 1);
    }
    for (std::size_t a = 0; a < repeats.size(); ++a) {
        if (repeats[a] == 1) continue;
        if (repeats[a] == 0) {
            x = I.emit(Op::Slice, {x}, {{"starts", std::vector<std::int64_t>{0}}, {"ends", std::vector<std::int64_t>{0}}, {"axes", std::vector<std::int64_t>{std::int64_t(a)}}},
                       I.out() + "/empty" + std::to_string(a));
            continue;
        }
        x = I.emit(Op::Concat, std::vector<ValueRef>(std::size_t(repeats[a]), x), {{"axis", std::int64_t(a)}}, I.out() + "/axis" + std::to_string(a));
    }
    if (I.graph().node(x.node).name != I.out()) x = I.emit(Op::Reshape, {x}, {{"shape", std::vector<std::int64_t>(I.shapeOf(x).begin(), I.shapeOf(x).end())}}, I.out());
    I.bindData(I.out(), x);
}

void eyeLike(Importer& I) {
    const Shape shape = I.isIndices(0) || I.value(0).kind == Value::Kind::Float ? I.staticShape(I.graphValue(0), "the input") : I.value(0).ints.shape;
    if (shape.size() != 2) I.fail("EyeLike takes a 2-D input, got shape " + shapeToString(shape));
    const std::int64_t k = I.attrInt("k", 0);
    std::optional<DType> dtype = I.isIndices(0) ? I.graph().type(I.value(0).ref).dtype : DType::F32;  // by default the input's type
    if (I.attr("dtype")) dtype = dtypeOfOnnx(int(I.attrInt("dtype", 0)));
    if (!dtype || *dtype == DType::Bool) I.fail("EyeLike of type " + dataTypeName(int(I.attrInt("dtype", 0))) + " is not supported");
    std::vector<std::int64_t> ones(std::size_t(numel(shape)), 0);
    for (std::int64_t r = 0; r < shape[0]; ++r)
        if (r + k >= 0 && r + k < shape[1]) ones[std::size_t(r * shape[1] + r + k)] = 1;
    const Tensor eye = I.typedConstant(shape, ones, *dtype, "the identity");
    if (*dtype == DType::F32) I.bindPending(I.out(), eye);
    else I.bindData(I.out(), I.constantNode(eye, I.out()));
}

void mean(Importer& I) {
    if (I.numInputs() < 1) I.fail("needs at least one input");
    ValueRef acc = I.fin(0);
    for (int i = 1; i < I.numInputs(); ++i) acc = I.emit(Op::Add, {acc, I.fin(i)}, {}, I.out() + "/sum" + std::to_string(i));
    if (I.numInputs() == 1) {
        I.bindFloat(I.out(), acc);
        return;
    }
    I.bindFloat(I.out(), I.emit(Op::Div, {acc, scalar(I, float(I.numInputs()), "count")}, {}, I.out()));
}

void activationComposite(Importer& I, const std::string& kind) {
    const ValueRef x = I.fin(0);
    const std::string& y = I.out();
    auto op = [&](Op o, std::vector<ValueRef> in, const std::string& part) { return I.emit(o, std::move(in), {}, part.empty() ? y : y + "/" + part); };
    ValueRef zeroValue;
    auto zero = [&] {  // one constant however often it is used
        if (zeroValue.node == kNoNode) zeroValue = scalar(I, 0.f, "zero");
        return zeroValue;
    };
    ValueRef out;
    if (kind == "Softsign") {  // x / (1 + |x|)
        out = op(Op::Div, {x, op(Op::Add, {scalar(I, 1.f, "one"), op(Op::Abs, {x}, "abs")}, "den")}, "");
    } else if (kind == "ThresholdedRelu") {  // x where x > alpha, else 0
        const float alpha = float(I.attrFloat("alpha", 1.0));
        out = op(Op::Where, {op(Op::Greater, {x, scalar(I, alpha, "alpha")}, "above"), x, zero()}, "");
    } else if (kind == "Shrink") {  // x + bias below -lambd, x - bias above lambd, 0 between
        const float lambd = float(I.attrFloat("lambd", 0.5)), bias = float(I.attrFloat("bias", 0.0));
        const ValueRef below = op(Op::Greater, {scalar(I, -lambd, "neg_lambd"), x}, "below");
        const ValueRef above = op(Op::Greater, {x, scalar(I, lambd, "lambd")}, "above");
        const ValueRef up = op(Op::Where, {above, op(Op::Sub, {x, scalar(I, bias, "bias")}, "minus_bias"), zero()}, "upper");
        out = op(Op::Where, {below, op(Op::Add, {x, scalar(I, bias, "plus")}, "plus_bias"), up}, "");
    } else if (kind == "PRelu") {  // x where x >= 0, else slope * x (slope broadcasts to x)
        const ValueRef slope = I.fin(1);
        out = op(Op::Where, {op(Op::Greater, {zero(), x}, "negative"), op(Op::Mul, {slope, x}, "scaled"), x}, "");
    } else if (kind == "Celu") {  // max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
        const float alpha = float(I.attrFloat("alpha", 1.0));
        if (alpha == 0.f) I.fail("alpha = 0 is not allowed");
        const ValueRef a = scalar(I, alpha, "alpha");
        const ValueRef em1 = op(Op::Sub, {op(Op::Exp, {op(Op::Div, {x, a}, "scaled")}, "exp"), scalar(I, 1.f, "one")}, "expm1");
        out = op(Op::Add, {op(Op::Maximum, {zero(), x}, "pos"), op(Op::Minimum, {zero(), op(Op::Mul, {a, em1}, "neg_part")}, "neg")}, "");
    } else if (kind == "Sinh" || kind == "Cosh") {  // (e^x -+ e^-x) / 2
        const ValueRef ep = op(Op::Exp, {x}, "exp"), en = op(Op::Exp, {op(Op::Neg, {x}, "neg")}, "exp_neg");
        out = op(Op::Mul, {op(kind == "Sinh" ? Op::Sub : Op::Add, {ep, en}, "twice"), scalar(I, 0.5f, "half")}, "");
    } else if (kind == "Tan") {
        out = op(Op::Div, {op(Op::Sin, {x}, "sin"), op(Op::Cos, {x}, "cos")}, "");
    } else if (kind == "Asinh" || kind == "Acosh") {  // log(x + sqrt(x^2 +- 1))
        const ValueRef sq = op(kind == "Asinh" ? Op::Add : Op::Sub, {op(Op::Mul, {x, x}, "square"), scalar(I, 1.f, "one")}, "radicand");
        out = op(Op::Log, {op(Op::Add, {x, op(Op::Sqrt, {sq}, "sqrt")}, "sum")}, "");
    } else if (kind == "Atanh") {  // log((1 + x) / (1 - x)) / 2
        const ValueRef one = scalar(I, 1.f, "one");
        const ValueRef ratio = op(Op::Div, {op(Op::Add, {one, x}, "num"), op(Op::Sub, {one, x}, "den")}, "ratio");
        out = op(Op::Mul, {op(Op::Log, {ratio}, "log"), scalar(I, 0.5f, "half")}, "");
    } else {
        I.fail("internal: unknown composite " + kind);
    }
    I.bindFloat(y, out);
}

namespace {

/// (x - mean) / sqrt(mean((x - mean)^2) + eps) over `axes` (kept as size-1 dimensions); the
/// last node is named `name`, the others after `stem`.
ValueRef standardized(Importer& I, ValueRef x, const Ints& axes, double eps, const std::string& stem, const std::string& name) {
    const Attributes keep{{"axes", axes}, {"keepdims", std::int64_t(1)}};
    const ValueRef d = I.emit(Op::Sub, {x, I.emit(Op::Mean, {x}, keep, stem + "/mean")}, {}, stem + "/centered");
    const ValueRef var = I.emit(Op::Mean, {I.emit(Op::Mul, {d, d}, {}, stem + "/square")}, keep, stem + "/variance");
    const ValueRef sd = I.emit(Op::Sqrt, {I.emit(Op::Add, {var, I.constantNode(Tensor::scalar(float(eps)), stem + "/epsilon")}, {}, stem + "/shifted")},
                               {}, stem + "/std");
    return I.emit(Op::Div, {d, sd}, {}, name);
}

}  // namespace

void instanceNorm(Importer& I) {
    const ValueRef x = I.fin(0);
    const Shape& s = I.shapeOf(x);
    if (s.size() < 3) I.fail("the input must have a batch, a channel and at least one spatial axis; it has shape " + shapeToString(s));
    Ints spatial, perChannel{s[1]};
    for (std::int64_t a = 2; a < std::int64_t(s.size()); ++a) {
        spatial.push_back(a);
        perChannel.push_back(1);
    }
    const std::string& y = I.out();
    const ValueRef n = standardized(I, x, spatial, I.attrFloat("epsilon", 1e-5), y, y + "/normalized");
    // each of scale and bias read where it is used, so that its constant comes there (as it
    // does when the graph is read back from its export)
    auto perChannelValue = [&](int i, const char* what) {
        const ValueRef v = I.fin(i);
        if (I.shapeOf(v) != Shape{s[1]}) I.fail(std::string("the ") + what + " must hold one value per channel (" + std::to_string(s[1]) + ")");
        return I.emit(Op::Reshape, {v}, {{"shape", perChannel}}, y + "/" + what);
    };
    const ValueRef scale = perChannelValue(1, "scale");
    const ValueRef bias = perChannelValue(2, "bias");
    I.bindFloat(y, I.emit(Op::Add, {I.emit(Op::Mul, {n, scale}, {}, y + "/scaled"), bias}, {}, y));
}

void meanVarianceNorm(Importer& I) {
    const ValueRef x = I.fin(0);
    const auto rank = std::int64_t(I.shapeOf(x).size());
    Ints axes;
    for (const auto a : intsOr(I.attrInts("axes"), {0, 2, 3})) axes.push_back(normAxis(I, a, rank, "axis"));
    // ONNX's own expansion of the op adds 1e-9 under the square root
    I.bindFloat(I.out(), standardized(I, x, axes, 1e-9, I.out(), I.out()));
}

void depthSpace(Importer& I, bool toSpace) {
    const ValueRef x = fourD(I, 0, toSpace ? "DepthToSpace" : "SpaceToDepth");
    const Shape& s = I.shapeOf(x);
    const std::int64_t bs = I.attrInt("blocksize", 0);
    if (bs < 1) I.fail("blocksize must be at least 1");
    const std::int64_t c = s[1], h = s[2], w = s[3];
    Ints split, perm, joined;
    if (toSpace) {
        if (c % (bs * bs)) I.fail("the channels (" + std::to_string(c) + ") are not a multiple of blocksize^2");
        const std::string mode = I.attrString("mode", "DCR");
        if (mode == "DCR") split = {0, bs, bs, c / (bs * bs), h, w}, perm = {0, 3, 4, 1, 5, 2};
        else if (mode == "CRD") split = {0, c / (bs * bs), bs, bs, h, w}, perm = {0, 1, 4, 2, 5, 3};
        else I.fail("mode '" + mode + "' is not DCR or CRD");
        joined = {0, c / (bs * bs), h * bs, w * bs};
    } else {
        if (h % bs || w % bs) I.fail("the spatial size " + std::to_string(h) + "x" + std::to_string(w) + " is not a multiple of blocksize");
        split = {0, c, h / bs, bs, w / bs, bs}, perm = {0, 3, 5, 1, 2, 4};
        joined = {0, c * bs * bs, h / bs, w / bs};
    }
    const std::string& y = I.out();
    const ValueRef r = I.emit(Op::Reshape, {x}, {{"shape", split}}, y + "/blocks");
    const ValueRef t = I.emit(Op::Transpose, {r}, {{"perm", perm}}, y + "/moved");
    I.bindFloat(y, I.emit(Op::Reshape, {t}, {{"shape", joined}}, y));
}

}  // namespace adj::onnx_io::ops
