// Handlers of ONNX's quantization ops, written with the table's ops on real 8-bit (and wider)
// integer values:
//   QuantizeLinear          saturate(round(x / scale) + zero_point), cast to the zero point's type
//                           (uint8 by default); round halves to even, as ONNX says
//   DequantizeLinear        (x - zero_point) * scale in float32
//   DynamicQuantizeLinear   scale = (max(0, max x) - min(0, min x)) / 255, zero point =
//                           saturate(round(-min(0, min x) / scale)), then QuantizeLinear to uint8
//   MatMulInteger           (A - a_zero_point) @ (B - b_zero_point) in int32 (a matmul on int32
//                           values, wrapping as int32 does)
//   QLinearMatMul           that product, to float32 (exact below 2^24: the cast refuses more),
//                           times a_scale * b_scale / y_scale, quantized to y_zero_point's type
//   ConvInteger, QLinearConv  the convolution of the centred values in float32, which is exact
//                           while every output's sum of products stays below 2^24: the importer
//                           refuses a kernel with more products than that allows (at 8 bits,
//                           258 per output), never rounding silently; the result cast to int32,
//                           or requantized as QLinearMatMul's
// Scales and zero points are scalars or, along `axis` (per channel), 1-D.
#include <limits>

#include "io/onnx_import_ops.h"
#include "tensor/dtype_visit.h"

namespace adj::onnx_io::ops {

namespace {

/// The element type of input i: a value's own, or for an integer constant the type the file gives it.
DType typeOf(Importer& I, int i) {
    const Value& v = I.value(i);
    if (v.kind == Kind::Indices) return I.graph().type(v.ref).dtype;
    if (v.kind == Kind::Ints) {
        if (const auto declared = I.declaredElementType(I.inName(i)))
            if (const auto t = dtypeOfOnnx(*declared)) return *t;
        return DType::I64;
    }
    return DType::F32;
}

/// A scale or zero point `v` (a scalar, or 1-D along `axis` of a value of rank `rank`) shaped to
/// broadcast against that value.
ValueRef alongAxis(Importer& I, ValueRef v, std::int64_t axis, std::size_t rank, const std::string& what) {
    const Shape& s = I.shapeOf(v);
    if (s.empty()) return v;
    if (s.size() != 1) I.fail(what + " must be a scalar or 1-D, got shape " + shapeToString(s));
    if (rank <= 1) return v;
    const std::int64_t a = normAxis(I, axis, std::int64_t(rank), "axis");
    Ints shape(rank, 1);
    shape[std::size_t(a)] = s[0];
    return I.emit(Op::Reshape, {v}, {{"shape", shape}}, I.out() + "/" + what + "_per_axis");
}

ValueRef floatScalar(Importer& I, double v, const std::string& what) { return I.constantNode(Tensor::scalar(float(v)), I.out() + "/" + what); }

/// The smallest and largest value of integer type t.
std::pair<double, double> rangeOf(DType t) {
    return visitIntegerDType(t, [](auto tag) {
        using T = typename decltype(tag)::type;
        return std::pair<double, double>(double(std::numeric_limits<T>::min()), double(std::numeric_limits<T>::max()));
    });
}

/// round(v) + zero point (when given), saturated to `type`'s range and cast to it.
ValueRef quantize(Importer& I, ValueRef v, std::optional<ValueRef> zeroPoint, DType type, const std::string& stem) {
    if (!isInteger(type)) I.fail("the zero point's type " + std::string(dtypeName(type)) + " is not an integer type");
    ValueRef q = I.emit(Op::Round, {v}, {}, stem + "/rounded");
    if (zeroPoint) q = I.emit(Op::Add, {q, *zeroPoint}, {}, stem + "/shifted");
    const auto [lo, hi] = rangeOf(type);
    const ValueRef atLeast = I.emit(Op::Maximum, {q, floatScalar(I, lo, "lowest")}, {}, stem + "/at_least");
    q = I.emit(Op::Minimum, {atLeast, floatScalar(I, hi, "highest")}, {}, stem + "/saturated");
    return I.emit(Op::Cast, {q}, {{"to", std::string(dtypeName(type))}}, stem);
}

/// Input i (integers) less zero point z when given, as int32 values; a 1-D zero point applies
/// along `zpAxis` of the input.
ValueRef centredInt32(Importer& I, int i, int z, std::int64_t zpAxis, const std::string& what) {
    ValueRef x = I.intIn(i, DType::I32);
    if (!I.has(z)) return x;
    const ValueRef zp = alongAxis(I, I.intIn(z, DType::I32), zpAxis, I.shapeOf(x).size(), what + "_zero_point");
    return I.emit(Op::Sub, {x, zp}, {}, I.out() + "/" + what + "_centred");
}

/// Input i less zero point z (when given) as float32 values, and the largest distance of such a
/// value from 0 that the input's type allows.
std::pair<ValueRef, double> centredFloat(Importer& I, int i, int z, std::int64_t zpAxis, const std::string& what) {
    const DType type = typeOf(I, i);
    if (!isInteger(type)) I.fail(what + " must be an integer tensor, got " + std::string(dtypeName(type)));
    const auto [lo, hi] = rangeOf(type);
    ValueRef x = I.fin(i);
    if (!I.has(z)) return {x, std::max(-lo, hi)};
    const ValueRef zp = alongAxis(I, I.fin(z), zpAxis, I.shapeOf(x).size(), what + "_zero_point");
    return {I.emit(Op::Sub, {x, zp}, {}, I.out() + "/" + what + "_centred"), hi - lo};
}

/// The integer convolution of inputs x (0) and w (wIndex) with their zero points, in float32,
/// refused where a sum of products could pass 2^24.
ValueRef integerConv(Importer& I, int wIndex, int xZero, int wZero) {
    const auto [x, xSpan] = centredFloat(I, 0, xZero, 1, "x");
    const auto [w, wSpan] = centredFloat(I, wIndex, wZero, 0, "w");
    const Shape& ws = I.shapeOf(w);
    double products = 1;
    for (std::size_t d = 1; d < ws.size(); ++d) products *= double(ws[d]);
    if (products * xSpan * wSpan >= double(1 << 24))
        I.fail("an integer convolution of " + std::to_string(std::int64_t(products)) + " products per output (of values up to " +
               std::to_string(std::int64_t(xSpan)) + " and " + std::to_string(std::int64_t(wSpan)) +
               ") could pass 2^24, beyond float32's exact integers, which Adjoint computes it in; not supported");
    return convolve(I, x, w, std::nullopt, I.out() + "/sums");
}

/// accumulated (float32 integers) * a_scale * b_scale / y_scale, quantized to y_zero_point's type.
void requantize(Importer& I, ValueRef accumulated, int aScale, int bScale, std::int64_t bAxis, int yScale, int yZero) {
    const std::size_t rank = I.shapeOf(accumulated).size();
    const ValueRef scale = I.emit(Op::Div, {I.emit(Op::Mul, {I.fin(aScale), alongAxis(I, I.fin(bScale), bAxis, rank, "b_scale")}, {}, I.out() + "/scales"), I.fin(yScale)},
                                  {}, I.out() + "/scale");
    const ValueRef scaled = I.emit(Op::Mul, {accumulated, scale}, {}, I.out() + "/scaled");
    const DType type = I.has(yZero) ? typeOf(I, yZero) : DType::U8;
    I.bindIndices(I.out(), quantize(I, scaled, I.has(yZero) ? std::optional<ValueRef>(I.fin(yZero)) : std::nullopt, type, I.out()));
}

}  // namespace

void quantizeLinear(Importer& I) {
    const ValueRef x = I.fin(0);
    const std::size_t rank = I.shapeOf(x).size();
    const std::int64_t axis = I.attrInt("axis", 1);
    const ValueRef scale = alongAxis(I, I.fin(1), axis, rank, "scale");
    const DType type = I.has(2) ? typeOf(I, 2) : DType::U8;
    const std::optional<ValueRef> zp = I.has(2) ? std::optional<ValueRef>(alongAxis(I, I.fin(2), axis, rank, "zero_point")) : std::nullopt;
    I.bindIndices(I.out(), quantize(I, I.emit(Op::Div, {x, scale}, {}, I.out() + "/scaled"), zp, type, I.out()));
}

void dequantizeLinear(Importer& I) {
    if (!isInteger(typeOf(I, 0))) I.fail("x must be an integer tensor, got " + std::string(dtypeName(typeOf(I, 0))));
    const ValueRef x = I.fin(0);  // (exact: 8-bit values, int32 below 2^24)
    const std::size_t rank = I.shapeOf(x).size();
    const std::int64_t axis = I.attrInt("axis", 1);
    ValueRef centred = x;
    if (I.has(2)) centred = I.emit(Op::Sub, {x, alongAxis(I, I.fin(2), axis, rank, "zero_point")}, {}, I.out() + "/centred");
    I.bindFloat(I.out(), I.emit(Op::Mul, {centred, alongAxis(I, I.fin(1), axis, rank, "scale")}, {}, I.out()));
}

void dynamicQuantizeLinear(Importer& I) {
    const ValueRef x = I.fin(0);
    const std::string s = I.out();
    const Attributes all{{"keepdims", std::int64_t(0)}};
    const ValueRef zero = floatScalar(I, 0.0, "zero");
    const ValueRef high = I.emit(Op::Maximum, {I.emit(Op::Max, {x}, all, s + "/max"), zero}, {}, s + "/high");
    const ValueRef low = I.emit(Op::Minimum, {I.emit(Op::Neg, {I.emit(Op::Max, {I.emit(Op::Neg, {x}, {}, s + "/neg")}, all, s + "/neg_max")}, {}, s + "/min"), zero},
                                {}, s + "/low");
    const bool scaleOut = I.node().output_size() > 1 && !I.node().output(1).empty();
    const ValueRef scale = I.emit(Op::Div, {I.emit(Op::Sub, {high, low}, {}, s + "/span"), floatScalar(I, 255.0, "levels")}, {}, scaleOut ? I.out(1) : s + "/scale");
    // the zero point: saturate(round(0 - low / scale)), kept as float for the quantization
    const ValueRef steps = I.emit(Op::Neg, {I.emit(Op::Div, {low, scale}, {}, s + "/low_steps")}, {}, s + "/zero_steps");
    const ValueRef rounded = I.emit(Op::Round, {steps}, {}, s + "/zero_rounded");
    const ValueRef atLeast = I.emit(Op::Maximum, {rounded, zero}, {}, s + "/zero_at_least");
    const ValueRef zpFloat = I.emit(Op::Minimum, {atLeast, floatScalar(I, 255.0, "zero_highest")}, {}, s + "/zero_point_f32");
    I.bindIndices(s, quantize(I, I.emit(Op::Div, {x, scale}, {}, s + "/scaled"), zpFloat, DType::U8, s));
    if (scaleOut) I.bindFloat(I.out(1), scale);
    if (I.node().output_size() > 2 && !I.node().output(2).empty())
        I.bindIndices(I.out(2), I.emit(Op::Cast, {zpFloat}, {{"to", std::string("u8")}}, I.out(2)));
}

void matMulInteger(Importer& I) {
    const ValueRef a = centredInt32(I, 0, 2, 0, "a");  // a 1-D zero point of A is per row
    const ValueRef b = centredInt32(I, 1, 3, 1, "b");  // of B, per column
    I.bindIndices(I.out(), I.emit(Op::MatMul, {a, b}, {}, I.out()));
}

void qLinearMatMul(Importer& I) {
    // a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point
    const ValueRef a = centredInt32(I, 0, 2, 0, "a"), b = centredInt32(I, 3, 5, 1, "b");
    const ValueRef product = I.emit(Op::MatMul, {a, b}, {}, I.out() + "/product");
    const ValueRef asFloat = I.emit(Op::Cast, {product}, {{"to", std::string("f32")}}, I.out() + "/product_f32");  // (refuses beyond 2^24)
    requantize(I, asFloat, 1, 4, std::int64_t(I.shapeOf(asFloat).size()) - 1, 6, 7);
}

void convInteger(Importer& I) {
    const ValueRef sums = integerConv(I, 1, 2, 3);
    I.bindIndices(I.out(), I.emit(Op::Cast, {sums}, {{"to", std::string("i32")}}, I.out()));
}

void qLinearConv(Importer& I) {
    // x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B (int32)
    ValueRef sums = integerConv(I, 3, 2, 5);
    if (I.has(8)) {
        Ints shape(I.shapeOf(sums).size(), 1);
        shape[1] = -1;  // per output channel
        const ValueRef bias = I.emit(Op::Reshape, {I.fin(8)}, {{"shape", shape}}, I.out() + "/bias");
        sums = I.emit(Op::Add, {sums, bias}, {}, I.out() + "/biased");
    }
    requantize(I, sums, 1, 4, 1, 6, 7);  // w_scale per output channel
}

}  // namespace adj::onnx_io::ops
