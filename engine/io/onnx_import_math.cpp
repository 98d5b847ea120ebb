// Handlers of the elementwise, comparison, logical, linear-algebra and reduction ONNX ops, and
// of every elementwise op of the table read from its ONNX name (tableOp).
#include <algorithm>
#include <climits>
#include <cmath>
#include <functional>
#include <numeric>

#include "io/onnx_import_ops.h"
#include "base/errors.h"
#include "ir/element_types.h"
#include "ir/verifier.h"
#include "tensor/dtype_visit.h"

namespace adj::onnx_io::ops {

void elementwise(Importer& I, Op op, char intOp) {
    if (I.isInts(0) && I.isInts(1) && intOp) {
        const IntTensor& a = I.value(0).ints;
        const IntTensor& b = I.value(1).ints;
        I.bindInts(I.out(), intBroadcast(I, {&a, &b}, [&](const std::vector<Sym>& v) { return symOp(I, v[0], v[1], intOp); }));
        return;
    }
    if (const std::optional<DType> type = I.integerInputs(); type && computesIn(op, *type)) {
        I.bindData(I.out(), I.emit(op, {I.intIn(0, *type), I.intIn(1, *type)}, {}, I.out()));  // computed in the inputs' type
        return;
    }
    ValueRef a = I.fin(0), b = I.fin(1);
    I.bindFloat(I.out(), I.emit(op, {a, b}, {}, I.out()));
}

namespace {

/// a - b * trunc(a / b) (trunc(q) = sign(q) floor(|q|)): ONNX's float Mod (fmod 1), differentiable
/// in a (1) and b (-trunc(a / b)) between the jumps; the last node named `name`.
ValueRef floatRemainder(Importer& I, ValueRef a, ValueRef b, const std::string& name) {
    const std::string s = I.out();
    const ValueRef q = I.emit(Op::Div, {a, b}, {}, s + "/quotient");
    const ValueRef t = I.emit(Op::Mul, {I.emit(Op::Sign, {q}, {}, s + "/sign"), I.emit(Op::Floor, {I.emit(Op::Abs, {q}, {}, s + "/abs")}, {}, s + "/floor")}, {}, s + "/trunc");
    return I.emit(Op::Sub, {a, I.emit(Op::Mul, {b, t}, {}, s + "/multiple")}, {}, name);
}

}  // namespace

void mod(Importer& I) {
    const bool fmod = I.attrInt("fmod", 0) != 0;
    if (I.isInts(0) && I.isInts(1)) {
        const IntTensor& a = I.value(0).ints;
        const IntTensor& b = I.value(1).ints;
        I.bindInts(I.out(), intBroadcast(I, {&a, &b}, [&](const std::vector<Sym>& v) { return symOp(I, v[0], v[1], fmod ? 'f' : '%'); }));
        return;
    }
    const std::optional<DType> type = I.integerInputs();
    if (type && isFloating(*type) && !fmod) I.fail("fmod 0 (an integer remainder) on float values is not defined by ONNX; set fmod to 1");
    if (type && isHalf(*type)) {
        // f16, bf16: the remainder in float32 (exact widening; one rounding at the end)
        const ValueRef a = I.emit(Op::Cast, {I.intIn(0, *type)}, {{"to", std::string("f32")}}, I.out() + "/a_f32");
        const ValueRef b = I.emit(Op::Cast, {I.intIn(1, *type)}, {{"to", std::string("f32")}}, I.out() + "/b_f32");
        const ValueRef r = floatRemainder(I, a, b, I.out() + "/f32");
        I.bindData(I.out(), I.emit(Op::Cast, {r}, {{"to", std::string(dtypeName(*type))}}, I.out()));
        return;
    }
    if (const std::optional<DType> integers = type && isInteger(*type) ? type : std::nullopt) {
        // integers known only when the graph runs: r = a - b (a / b) with division toward zero (C's
        // remainder, fmod 1); fmod 0 moves a nonzero r of the other sign than b by b (Python's %)
        const ValueRef a = I.intIn(0, *integers), b = I.intIn(1, *integers);
        const std::string s = I.out();
        const ValueRef r = I.emit(Op::Sub, {a, I.emit(Op::Mul, {b, I.emit(Op::Div, {a, b}, {}, s + "/quotient")}, {}, s + "/multiple")}, {}, fmod ? s : s + "/remainder");
        if (fmod) {
            I.bindIndices(s, r);
            return;
        }
        const ValueRef zero = I.constantNode(I.typedConstant({}, {0}, *integers, "zero"), s + "/zero");
        const ValueRef one = I.constantNode(Tensor::scalar(1.f), s + "/one"), two = I.constantNode(Tensor::scalar(2.f), s + "/two");
        const ValueRef rNeg = I.emit(Op::Greater, {zero, r}, {}, s + "/r_negative"), bNeg = I.emit(Op::Greater, {zero, b}, {}, s + "/b_negative");
        const ValueRef differ = I.emit(Op::Sub, {I.emit(Op::Add, {rNeg, bNeg}, {}, s + "/either"), I.emit(Op::Mul, {I.emit(Op::Mul, {rNeg, bNeg}, {}, s + "/both"), two}, {}, s + "/twice")}, {}, s + "/signs_differ");
        const ValueRef nonzero = I.emit(Op::Sub, {one, I.emit(Op::Equal, {r, zero}, {}, s + "/is_zero")}, {}, s + "/nonzero");
        const ValueRef move = I.emit(Op::Mul, {differ, nonzero}, {}, s + "/move");
        I.bindIndices(s, I.emit(Op::Where, {move, I.emit(Op::Add, {r, b}, {}, s + "/moved"), r}, {}, s));
        return;
    }
    // float values: ONNX defines only fmod 1
    if (!fmod) I.fail("fmod 0 (an integer remainder) on float values is not defined by ONNX; set fmod to 1");
    const std::optional<DType> f64 = type == DType::F64 ? type : std::nullopt;  // (computed in double)
    I.bindData(I.out(), floatRemainder(I, I.numIn(0, f64), I.numIn(1, f64), I.out()));
}

void bitShift(Importer& I) {
    // x << s = x * 2^s and x >> s = x / 2^s in the unsigned type (wrap-around and truncating
    // division give the shifts exactly), 2^s gathered from the type's table of powers of two
    const std::string direction = I.attrString("direction", "");
    if (direction != "LEFT" && direction != "RIGHT") I.fail("attribute 'direction' must be LEFT or RIGHT, got '" + direction + "'");
    const std::optional<DType> type = I.integerInputs();
    if (!type || !isUnsigned(*type) || *type == DType::Bool)
        I.fail("BitShift takes unsigned integer values known when the graph runs (uint8, uint16, uint32, uint64)");
    const std::int64_t width = std::int64_t(dtypeSize(*type)) * 8;
    Tensor table = Tensor::empty({width}, *type);
    visitIntegerDType(*type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        for (std::int64_t k = 0; k < width; ++k) table.ptr<T>()[k] = T(std::uint64_t(1) << k);
    });
    const std::string s = I.out();
    const ValueRef powers = I.emit(Op::Gather, {I.constantNode(table, s + "/powers_of_two"), I.intIn(1, DType::I64)}, {{"axis", std::int64_t(0)}}, s + "/two_to_the_shift");
    I.bindIndices(s, I.emit(direction == "LEFT" ? Op::Mul : Op::Div, {I.intIn(0, *type), powers}, {}, s));
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
    if (I.isIndices(0) && computesIn(op, I.graph().type(I.value(0).ref).dtype)) {
        I.bindData(I.out(), I.emit(op, {I.value(0).ref}, {}, I.out()));
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
    std::optional<DType> integers = I.integerInputs();
    if (integers && !computesIn(op, *integers)) integers.reset();
    ValueRef acc = I.numIn(0, integers);
    for (int i = 1; i < I.numInputs(); ++i)
        acc = I.emit(op, {acc, I.numIn(i, integers)}, {}, i + 1 == I.numInputs() ? I.out() : I.out() + "/" + std::to_string(i));
    I.bindData(I.out(), acc);
}

void compare(Importer& I, char kind) {
    // kind: '>' Greater, '<' Less, '=' Equal, 'g' GreaterOrEqual, 'l' LessOrEqual
    if (I.isInts(0) && I.isInts(1)) {
        const IntTensor& a = I.value(0).ints;
        const IntTensor& b = I.value(1).ints;
        I.bindInts(I.out(), intBroadcast(I, {&a, &b}, [&](const std::vector<Sym>& v) { return symOp(I, v[0], v[1], kind); }));
        return;
    }
    const std::optional<DType> integers = I.integerInputs();  // integers compared as integers
    ValueRef a = I.numIn(0, integers), b = I.numIn(1, integers), r;
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
    // 'n' Not, '&' And, '|' Or, '^' Xor
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
    if (kind == '^') {  // a + b - 2ab on 0/1 masks
        const ValueRef both = I.emit(Op::Mul, {I.emit(Op::Mul, {a, b}, {}, I.out() + "/both"), I.constantNode(Tensor::scalar(2.f), I.out() + "/two")}, {}, I.out() + "/twice");
        I.bindFloat(I.out(), I.emit(Op::Sub, {I.emit(Op::Add, {a, b}, {}, I.out() + "/either"), both}, {}, I.out()), true);
        return;
    }
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
    ValueRef c = I.finRaw(0);
    // integer values picked as integers when both are (a constant one with a runtime one)
    std::optional<DType> integers;
    if ((I.isIndices(1) || I.isInts(1)) && (I.isIndices(2) || I.isInts(2)) && (I.isIndices(1) || I.isIndices(2)))
        integers = I.graph().type(I.value(I.isIndices(1) ? 1 : 2).ref).dtype;
    ValueRef a = I.numIn(1, integers), b = I.numIn(2, integers);
    I.bindData(I.out(), I.emit(Op::Where, {c, a, b}, {}, I.out()));
}

void clip(Importer& I) {
    std::optional<DType> type = I.integerInputs();  // clipped in the input's type where it computes
    if (type && !computesIn(Op::Maximum, *type)) type.reset();
    ValueRef y = I.numIn(0, type);
    if (I.has(1)) y = I.emit(Op::Maximum, {y, I.numIn(1, type)}, {}, I.has(2) ? I.out() + "/min" : I.out());
    if (I.has(2)) y = I.emit(Op::Minimum, {y, I.numIn(2, type)}, {}, I.out());
    if (!I.has(1) && !I.has(2)) {
        identity(I);
        return;
    }
    I.bindData(I.out(), y);
}

void reciprocal(Importer& I) {
    ValueRef x = I.fin(0);
    I.bindFloat(I.out(), I.emit(Op::Div, {I.constantNode(Tensor::scalar(1.f), I.out() + "/one"), x}, {}, I.out()));
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
    // in the input's own type where the reduction computes in it (f64)
    const ValueRef x = I.isIndices(0) && computesIn(op, I.graph().type(I.value(0).ref).dtype) ? I.value(0).ref : I.fin(0);
    if ((!axes || axes->empty()) && noop) {
        I.bindData(I.out(), x);
        return;
    }
    Attributes at{{"keepdims", keep}};
    if (axes && !axes->empty()) at.set("axes", *axes);
    I.bindData(I.out(), I.emit(op, {x}, at, I.out()));
}

/// An elementwise op of the table read from the ONNX op its entry names: float inputs, and the
/// ONNX attributes that the op's schema declares (alpha, beta, gamma), checked against it.
void tableOp(Importer& I, Op op) {
    const OpInfo& info = opInfo(op);
    Node probe;
    probe.op = op;
    probe.name = I.out();
    for (const auto& a : I.node().attribute()) {
        bool known = false;
        for (const auto& spec : info.attrs) known = known || spec.name == a.name();
        if (!known) I.fail("attribute '" + a.name() + "' is not supported");
        if (a.type() != onnx::AttributeProto::FLOAT) I.fail("attribute '" + a.name() + "' must be a float");
        probe.attrs.set(a.name(), double(a.f()));
    }
    for (const auto& problem : checkAttributes(probe)) I.fail(problem.substr(problem.find("): ") + 3));  // after "node '...' (op)"
    std::optional<DType> type = I.integerInputs();  // in the inputs' type where the op computes in it
    if (type && !computesIn(op, *type)) type.reset();
    std::vector<ValueRef> ins;
    for (int i = 0; i < I.numInputs(); ++i) ins.push_back(I.numIn(i, type));
    I.bindData(I.out(), I.emit(op, std::move(ins), probe.attrs, I.out()));
}

}  // namespace adj::onnx_io::ops
