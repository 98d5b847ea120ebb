// Handlers that make or pass values: Identity, Dropout, Constant, ConstantOfShape, Range, Shape,
// Size, Cast, and If with a condition known while importing.
#include <algorithm>
#include <climits>
#include <cmath>
#include <functional>
#include <numeric>

#include "io/onnx_import_ops.h"
#include "base/errors.h"

namespace adj::onnx_io::ops {

namespace {

/// Largest float constant that ConstantOfShape may create (64 MiB).
constexpr std::int64_t kMaxConstantOfShape = std::int64_t(1) << 24;

}  // namespace

void identity(Importer& I) { I.bindValue(I.out(), I.value(0)); }

void dropout(Importer& I) {
    // Inference keeps every element; so does training mode with a ratio of 0 (torchvision 0.14's
    // Swin calls F.dropout(attn, p=0.0) without passing training=False, so even an eval-mode
    // export has one). Either way the mask, when read, is all true. A random mask is not supported.
    const bool training = I.has(2) && I.constScalar(2, "training_mode") != 0;
    if (training) {
        const double ratio = I.has(1) ? I.constScalar(1, "ratio") : 0.5;
        if (ratio != 0) I.fail("training-mode Dropout (ratio " + std::to_string(ratio) + ") is not supported (export the model in eval mode)");
    }
    if (I.outputUsed(1)) {
        const ValueRef x = I.fin(0);
        const Shape shape = I.staticShape(x, "the input");
        I.bindFloat(I.node().output(1), I.constantNode(Tensor::full(shape, 1.f), I.node().output(1)), true);
    }
    identity(I);
}

void constant(Importer& I) {
    const auto& n = I.node();
    if (n.attribute_size() != 1) I.fail("must have exactly one value attribute");
    const auto& a = n.attribute(0);
    const std::string what = I.out();
    if (a.name() == "value") {
        if (!a.has_t()) I.fail("attribute 'value' must be a TENSOR");
        const auto& t = a.t();
        if (isFloatType(t.data_type())) {
            I.bindPending(I.out(), readFloatTensor(t, "Constant '" + what + "'"));
        } else if (isIntegerType(t.data_type())) {
            IntTensor r;
            r.shape = checkTensorData(t, "Constant '" + what + "'");
            for (auto v : readIntTensor(t, "Constant '" + what + "'", kMaxIntResult)) r.data.push_back(symConst(v));
            I.bindInts(I.out(), std::move(r));
        } else {
            I.fail("a constant of type " + dataTypeName(t.data_type()) + " is not supported");
        }
    } else if (a.name() == "value_float") {
        I.bindPending(I.out(), Tensor::scalar(float(I.attrFloat("value_float", 0))));
    } else if (a.name() == "value_floats") {
        std::vector<float> f(a.floats().begin(), a.floats().end());
        I.bindPending(I.out(), Tensor::fromVector({std::int64_t(f.size())}, f));
    } else if (a.name() == "value_int") {
        I.bindInts(I.out(), IntTensor{{}, {symConst(I.attrInt("value_int", 0))}});
    } else if (a.name() == "value_ints") {
        IntTensor r;
        for (auto v : a.ints()) r.data.push_back(symConst(v));
        r.shape = {std::int64_t(r.data.size())};
        I.bindInts(I.out(), std::move(r));
    } else {
        I.fail("attribute '" + a.name() + "' (sparse or string constants) is not supported");
    }
}

void groupNodesSince(Importer& I, NodeId first, const std::string& group) {
    for (NodeId id = first; id < I.graph().idBound(); ++id)
        if (I.graph().contains(id) && !isSource(I.graph().node(id).op)) {
            auto& meta = I.graph().node(id).meta;
            meta["group"] = group;
            meta["group_collapsed"] = "1";
        }
}

ValueRef dynamicZeros(Importer& I, const Sym& dim, std::size_t rank, std::size_t axis, const std::string& stem) {
    // a graph input that has this dimension (or one it is a multiple of: batch * heads) carries
    // it: one of its rows along that axis, compared with itself by greater (0 for every value, NaN
    // and infinities included), repeated for a multiple, shaped [1.., d, ..1]
    auto multiple = [&](const Sym& d) -> std::int64_t {
        if (d[0] <= 0 || dim[0] % d[0] != 0) return 0;
        const std::int64_t k = dim[0] / d[0];
        std::int64_t a = 0, b = 0;
        if (__builtin_mul_overflow(d[1], k, &a) || __builtin_mul_overflow(d[2], k, &b)) return 0;
        return a == dim[1] && b == dim[2] ? k : 0;
    };
    for (int pass = 0; pass < 2; ++pass)  // an equal dimension first, then a multiple
    for (NodeId id : I.graph().inputNodes()) {
        const ValueRef in{id, 0};
        const std::vector<Sym> dims = I.symShape(in);
        for (std::size_t a = 0; a < dims.size(); ++a) {
            if (symIsConst(dims[a])) continue;
            const std::int64_t k = pass == 0 ? (dims[a] == dim ? 1 : 0) : multiple(dims[a]);
            if (k == 0) continue;
            ValueRef v = I.graph().node(id).declaredDType == DType::F32 ? in : I.indicesAsFloat(I.graph().node(id).name);
            Ints others;
            for (std::size_t b = 0; b < dims.size(); ++b)
                if (b != a) {
                    v = I.emit(Op::Slice, {v}, {{"starts", Ints{0}}, {"ends", Ints{1}}, {"axes", Ints{std::int64_t(b)}}}, stem + "/carrier_row");
                    others.push_back(std::int64_t(b));
                }
            if (!others.empty()) v = I.emit(Op::Squeeze, {v}, {{"axes", others}}, stem + "/carrier");
            ValueRef zeros = I.emit(Op::Greater, {v, v}, {}, stem + "/zeros");
            if (k > 1) {
                ValueRef wide = I.emit(Op::Expand, {I.emit(Op::Unsqueeze, {zeros}, {{"axes", Ints{1}}}, stem + "/zeros_col")},
                                       {{"shape", Ints{1, k}}}, stem + "/zeros_repeated");
                zeros = I.emit(Op::Reshape, {wide}, {{"shape", Ints{-1}}}, stem + "/zeros_multiple");
            }
            Ints around;
            for (std::size_t b = 0; b < rank; ++b)
                if (b != axis) around.push_back(std::int64_t(b));
            return around.empty() ? zeros : I.emit(Op::Unsqueeze, {zeros}, {{"axes", around}}, stem + "/zeros_at");
        }
    }
    I.fail("a shape depends on a dynamic dimension (" + I.dynamicNote() + ") that no graph input has");
}

ValueRef dynamicFill(Importer& I, const std::vector<Sym>& shape, float value, const std::string& stem) {
    Shape fixed;
    for (const Sym& s : shape) fixed.push_back(symIsConst(s) ? s[0] : 1);
    if (!shapeIsSane(fixed) || numel(fixed) > kMaxConstantOfShape) I.fail("a constant of shape " + shapeToString(fixed) + " is too large");
    std::vector<ValueRef> zeros;
    for (std::size_t a = 0; a < shape.size(); ++a)
        if (!symIsConst(shape[a])) zeros.push_back(dynamicZeros(I, shape[a], shape.size(), a, stem + "/dim" + std::to_string(a)));
    // the constant right before its first use, where reading the exported file back puts it
    ValueRef r = I.constantNode(Tensor::full(fixed, value), stem + "/value");
    for (ValueRef z : zeros) r = I.emit(Op::Add, {r, z}, {}, stem + "/grown");
    return r;
}

void constantOfShape(Importer& I) {
    if (const IntTensor& dims = I.iin(0, "the shape"); !dims.allConst()) {
        // a float constant over a dynamic dimension (zeros of the batch's size): built from a
        // graph input that has that dimension
        float value = 0.f;
        if (const auto* a = I.attr("value")) {
            if (!a->has_t() || !isFloatType(a->t().data_type())) I.fail("a ConstantOfShape over a dynamic dimension must hold a float value");
            const Tensor t = readFloatTensor(a->t(), "attribute 'value'");
            if (t.numel() != 1) I.fail("attribute 'value' must hold one value");
            value = t.flatAt(0);
        }
        for (const Sym& s : dims.data)
            if (symIsConst(s) && s[0] < 0) I.fail("negative dimension " + std::to_string(s[0]));
        const NodeId first = I.graph().idBound();
        I.bindFloat(I.out(), dynamicFill(I, dims.data, value, I.out()));
        groupNodesSince(I, first, I.out());
        return;
    }
    const Ints shape = I.constInts(0, "the shape");
    for (auto d : shape)
        if (d < 0) I.fail("negative dimension " + std::to_string(d));
    if (!shapeIsSane(shape)) I.fail("shape " + shapeToString(shape) + " is too large");
    const auto* a = I.attr("value");
    int type = onnx::TensorProto::FLOAT;
    double fv = 0;
    std::int64_t iv = 0;
    if (a) {
        if (!a->has_t()) I.fail("attribute 'value' must be a TENSOR");
        type = a->t().data_type();
        if (isFloatType(type)) {
            Tensor t = readFloatTensor(a->t(), "attribute 'value'");
            if (t.numel() != 1) I.fail("attribute 'value' must hold one value");
            fv = t.flatAt(0);
        } else if (isIntegerType(type)) {
            auto v = readIntTensor(a->t(), "attribute 'value'", 1);
            if (v.size() != 1) I.fail("attribute 'value' must hold one value");
            iv = v[0];
        } else {
            I.fail("attribute 'value' of type " + dataTypeName(type) + " is not supported");
        }
    }
    if (isFloatType(type)) {
        if (numel(shape) > kMaxConstantOfShape) I.fail("a constant of " + std::to_string(numel(shape)) + " elements is too large");
        I.bindPending(I.out(), Tensor::full(shape, float(fv)));
    } else {
        if (numel(shape) > kMaxIntResult) I.fail("integer result too large");
        I.bindInts(I.out(), IntTensor{shape, std::vector<Sym>(std::size_t(numel(shape)), symConst(iv))});
    }
}

namespace {

/// Whether input i holds float values (not integers): a float32 value or constant, or an f64,
/// f16 or bf16 one.
bool holdsFloats(Importer& I, int i) {
    const Value& v = I.value(i);
    if (v.kind == Kind::Float || v.kind == Kind::PendingConstant) return true;
    return v.kind == Kind::Indices && isFloating(I.graph().type(v.ref).dtype);
}

/// A Range of float values known while importing (constants, or graph inputs given before
/// importing: the graph is specialized to them), made in the type of input 0.
void floatRange(Importer& I) {
    const double start = I.constScalar(0, "start"), limit = I.constScalar(1, "limit"), delta = I.constScalar(2, "delta");
    if (delta == 0) I.fail("delta is 0");
    const double count = std::ceil((limit - start) / delta);
    if (!(count <= double(kMaxIntResult))) I.fail("Range of " + std::to_string(count) + " elements is too large");
    const auto n = std::int64_t(std::max(count, 0.0));
    const DType type = I.isIndices(0) ? I.graph().type(I.value(0).ref).dtype : DType::F32;
    if (type == DType::F32) {
        std::vector<float> v(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i) v[std::size_t(i)] = float(start + double(i) * delta);
        I.bindPending(I.out(), Tensor::fromVector({n}, v));
        return;
    }
    if (type != DType::F64) I.fail("Range of " + std::string(dtypeName(type)) + " values is not supported (float, double and integers are)");
    Tensor t = Tensor::empty({n}, DType::F64);
    for (std::int64_t i = 0; i < n; ++i) t.ptr<double>()[i] = start + double(i) * delta;
    I.bindIndices(I.out(), I.constantNode(t, I.out()));
}

}  // namespace

void range(Importer& I) {
    if (holdsFloats(I, 0) || holdsFloats(I, 1) || holdsFloats(I, 2)) return floatRange(I);
    // integers evaluated while importing, or graph inputs given to `run` (the graph is specialized to them)
    const IntTensor ts = I.iin(0, "start"), tl = I.iin(1, "limit"), td = I.iin(2, "delta");
    const Sym s = symScalar(I, ts, "start"), l = symScalar(I, tl, "limit"), d = symScalar(I, td, "delta");
    if (!symIsConst(s) || !symIsConst(l) || !symIsConst(d)) I.fail("a Range that depends on a dynamic dimension is not supported");
    if (d[0] == 0) I.fail("delta is 0");
    const double count = std::ceil((double(l[0]) - double(s[0])) / double(d[0]));
    if (count > double(kMaxIntResult)) I.fail("Range of " + std::to_string(count) + " elements is too large");
    IntTensor r;
    for (std::int64_t i = 0; i < std::int64_t(std::max(count, 0.0)); ++i) r.data.push_back(symConst(s[0] + i * d[0]));
    r.shape = {std::int64_t(r.data.size())};
    I.bindInts(I.out(), std::move(r));
}

void shapeOp(Importer& I) {
    std::vector<Sym> dims;
    if (I.isInts(0)) {
        for (auto d : I.value(0).ints.shape) dims.push_back(symConst(d));
    } else {
        dims = I.symShape(I.graphValue(0));
    }
    const auto r = std::int64_t(dims.size());
    std::int64_t start = I.attrInt("start", 0), end = I.attrInt("end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<std::int64_t>(start, 0, r);
    end = std::clamp<std::int64_t>(end, 0, r);
    IntTensor t;
    for (std::int64_t i = start; i < end; ++i) t.data.push_back(dims[std::size_t(i)]);
    t.shape = {std::int64_t(t.data.size())};
    I.bindInts(I.out(), std::move(t));
}

void sizeOp(Importer& I) {
    Sym n = symConst(1);
    if (I.isInts(0)) n = symConst(numel(I.value(0).ints.shape));
    else
        for (const Sym& d : I.symShape(I.graphValue(0))) n = symOp(I, n, d, '*');
    I.bindInts(I.out(), IntTensor{{}, {n}});
}

namespace {

/// Cast and CastLike: input 0 converted to `target` (ir/element_types.h's cast: integers never
/// rounded or wrapped silently, floats rounded to a narrower float type to nearest even).
void castTo(Importer& I, DType target) {
    const Value& v = I.value(0);
    const std::string to(dtypeName(target));
    if (v.kind == Kind::Ints) {
        if (target == DType::F32) {
            if (!v.ints.allConst()) I.fail("Cast to float of an integer tensor that depends on a dynamic dimension (" + I.dynamicNote() + ") is not supported");
            std::vector<float> f;
            for (auto x : v.ints.values()) f.push_back(float(x));
            I.bindPending(I.out(), Tensor::fromVector(v.ints.shape, f));
        } else if (isIntegral(target)) {
            I.bindInts(I.out(), target == DType::Bool ? intMap(v.ints, [](std::int64_t x) -> std::int64_t { return x != 0; }) : v.ints);
        } else {
            if (!v.ints.allConst()) I.fail("Cast to " + to + " of an integer tensor that depends on a dynamic dimension (" + I.dynamicNote() + ") is not supported");
            I.bindIndices(I.out(), I.constantNode(I.typedConstant(v.ints.shape, v.ints.values(), target, "input '" + I.inName(0) + "'"), I.out()));
        }
        return;
    }
    if (v.kind == Kind::Indices && target == DType::F32 && isInteger(I.graph().type(v.ref).dtype) && I.shapeOf(v.ref).empty() && I.knownInput(v.ref)) {
        // an integer scalar input given before importing, to float: a constant, as its integer
        // is (so that what is computed from it, a Range's limit, is known too); data such as
        // token ids stays a value of the graph
        const IntTensor& known = I.iin(0, "the value");
        if (known.allConst()) {
            std::vector<float> f;
            for (auto x : known.values()) f.push_back(float(x));
            I.bindPending(I.out(), Tensor::fromVector(known.shape, f));
            return;
        }
    }
    if (v.kind == Kind::Indices) {  // a value of its own type: converted when the graph runs
        const DType from = I.graph().type(v.ref).dtype;
        if (from == target) {
            I.bindValue(I.out(), v);
        } else if (target == DType::Bool) {  // a truth value, as the graph holds them: a 0/1 mask
            const ValueRef b = I.emit(Op::Cast, {v.ref}, {{"to", to}}, I.out() + "/bool");
            I.bindFloat(I.out(), I.emit(Op::Cast, {b}, {{"to", std::string("f32")}}, I.out()), true);
        } else if (target == DType::F32 && isInteger(from)) {
            I.bindFloat(I.out(), I.fin(0));  // the value's one float view (exact up to 2^24)
        } else if (target == DType::F32) {
            I.bindFloat(I.out(), I.emit(Op::Cast, {v.ref}, {}, I.out()));  // (rounded to nearest)
        } else {
            I.bindIndices(I.out(), I.emit(Op::Cast, {v.ref}, {{"to", to}}, I.out()));
        }
        return;
    }
    if (target == DType::F32) {
        if (v.kind == Kind::PendingConstant) {
            I.bindValue(I.out(), v);
            return;
        }
        const ValueRef r = I.fin(0);
        // Adjoint's exporter writes equal and greater as the ONNX comparison into "<name>/bool"
        // and a Cast to FLOAT into "<name>": read back, the node gets its own name again
        if (I.graph().node(r.node).name == I.out() + "/bool" && I.graph().users(r.node).empty() && !I.graph().findNode(I.out()))
            I.graph().rename(r.node, I.out());
        I.bindFloat(I.out(), r);
        return;
    }
    if (target == DType::Bool) {
        if (v.kind == Kind::Float && v.isBool) {
            I.bindValue(I.out(), v);
            return;
        }
        Value b;
        b.kind = Kind::Float;
        b.ref = I.finRaw(0);
        b.isBool = true;
        b.normalized = false;
        I.bindValue(I.out(), b);
        return;
    }
    // float32 -> integer: a known constant stays an integer tensor evaluated while importing
    // (truncated toward zero, as ONNX's Cast), so that shapes computed from it stay known
    const Tensor* t = nullptr;
    if (v.kind == Kind::PendingConstant) t = &v.constant;
    else if (I.graph().node(v.ref.node).op == Op::Constant) t = &I.graph().node(v.ref.node).value;
    if (t && isInteger(target) && t->numel() <= kMaxIntResult) {
        IntTensor r;
        r.shape = t->shape();
        for (float f : t->toVector()) {
            if (!(std::fabs(f) < 9.0e18f)) I.fail("Cast of a non-finite or huge value to an integer");
            r.data.push_back(symConst(std::int64_t(std::trunc(f))));
        }
        I.bindInts(I.out(), std::move(r));
        return;
    }
    // computed float32 values -> an integer or another float type, when the graph runs
    I.bindIndices(I.out(), I.emit(Op::Cast, {I.fin(0)}, {{"to", to}}, I.out()));
}

}  // namespace

void cast(Importer& I) {
    if (!I.attr("to")) I.fail("attribute 'to' is missing");
    const auto to = int(I.attrInt("to", 0));
    const std::optional<DType> target = dtypeOfOnnx(to);
    if (!target) I.fail("Cast to " + dataTypeName(to) + " is not supported");
    castTo(I, *target);
}

void castLike(Importer& I) {
    // the target is input 1's element type
    const Value& like = I.value(1);
    std::optional<DType> target;
    if (like.kind == Kind::Indices) target = I.graph().type(like.ref).dtype;
    else if (like.kind == Kind::Float) target = like.isBool ? DType::Bool : DType::F32;
    else if (like.kind == Kind::PendingConstant) target = DType::F32;
    else if (const std::optional<int> declared = I.declaredElementType(I.inName(1))) target = dtypeOfOnnx(*declared);
    if (!target) I.fail("the element type of input 1 ('" + I.inName(1) + "') is not known or not supported");
    castTo(I, *target);
}

void ifOp(Importer& I) {
    // Exporters emit If for shape checks (PyTorch: squeeze of a dimension it cannot prove is 1);
    // a condition known while importing selects the branch, whose nodes are converted in place.
    const IntTensor& cond = I.iin(0, "the condition");
    if (cond.data.size() != 1 || !symIsConst(cond.data[0]))
        I.fail("the condition must be known while importing (computed from shapes or constants); here it " +
               std::string(cond.data.size() != 1 ? "is not a single value" : "depends on a dynamic dimension (" + I.dynamicNote() + ")"));
    const std::string which = cond.data[0][0] ? "then_branch" : "else_branch";
    const auto* a = I.attr(which);
    if (!a || !a->has_g()) I.fail("attribute '" + which + "' (a graph) is missing");
    const onnx::GraphProto& branch = a->g();
    if (branch.output_size() != I.node().output_size())
        I.fail(which + " has " + std::to_string(branch.output_size()) + " outputs for the node's " + std::to_string(I.node().output_size()));
    I.inlineBranch(branch);
    for (int k = 0; k < branch.output_size(); ++k) {
        const onnx::NodeProto& self = I.node();
        if (self.output(k).empty()) continue;
        Value v = I.valueNamed(branch.output(k).name());
        I.bindValue(self.output(k), std::move(v));
    }
}

}  // namespace adj::onnx_io::ops
