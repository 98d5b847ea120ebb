// The Importer's side that op handlers use (onnx_importer.h): the node being converted, its
// inputs as values, its attributes, emitting graph nodes with their shapes at the probe
// bindings, and binding ONNX names to what they stand for.
#include <algorithm>
#include <cmath>
#include <utility>
#include <limits>

#include "io/onnx_importer.h"
#include "tensor/dtype_visit.h"
#include "base/errors.h"
#include "ir/shape_inference.h"

namespace adj::onnx_io {

std::string stripNodePrefix(const std::string& msg) {
    if (msg.rfind("node '", 0) != 0) return msg;
    auto p = msg.find("): ");
    return p == std::string::npos ? msg : msg.substr(p + 3);
}

std::string attrTypeText(int t) {
    if (onnx::AttributeProto_AttributeType_IsValid(t)) return onnx::AttributeProto_AttributeType_Name(onnx::AttributeProto_AttributeType(t));
    return "type " + std::to_string(t);
}

bool IntTensor::allConst() const {
    return std::all_of(data.begin(), data.end(), symIsConst);
}

std::vector<std::int64_t> IntTensor::values() const {
    std::vector<std::int64_t> v;
    v.reserve(data.size());
    for (const auto& s : data) v.push_back(s[0]);
    return v;
}

Importer::Importer(const onnx::ModelProto& model, std::string where, const KnownInputs& known)
    : model_(model), gp_(model.graph()), where_(std::move(where)), known_(known) {}

std::int64_t Importer::staticDim(ValueRef v, std::size_t axis, const std::string& what) const {
    const Sym d = symShape(v)[axis];
    if (!symIsConst(d)) fail(what + " must not be a dynamic dimension (" + dynamicNote() + ")");
    return d[0];
}

Shape Importer::staticShape(ValueRef v, const std::string& what) const {
    for (const Sym& d : symShape(v))
        if (!symIsConst(d)) fail(what + " with a dynamic dimension (" + dynamicNote() + ") is not supported");
    return shapeOf(v);
}

std::optional<int> Importer::declaredElementType(const std::string& name) const {
    for (const auto& t : gp_.initializer())
        if (t.name() == name) return t.data_type();
    for (const auto* list : {&gp_.input(), &gp_.value_info(), &gp_.output()})
        for (const auto& vi : *list)
            if (vi.name() == name && vi.type().has_tensor_type()) return vi.type().tensor_type().elem_type();
    return std::nullopt;
}

const Tensor* Importer::knownInput(ValueRef v) const {
    // a bool input is read through its cast to a 0/1 mask: the mask's values are the input's
    if (g_.node(v.node).op == Op::Cast && g_.node(v.node).inputs.size() == 1 && g_.node(g_.node(v.node).inputs[0].node).op == Op::Input &&
        g_.node(g_.node(v.node).inputs[0].node).declaredDType == DType::Bool)
        v = g_.node(v.node).inputs[0];
    const Node& n = g_.node(v.node);
    if (n.op != Op::Input) return nullptr;
    auto it = known_.find(n.name);
    if (it == known_.end()) return nullptr;
    const Shape& want = g_.type(v).shape;
    const Shape& got = it->second.shape();
    bool ok = want.size() == got.size();
    for (std::size_t d = 0; ok && d < want.size(); ++d) ok = n.dimNames.size() > d && !n.dimNames[d].empty() ? true : want[d] == got[d];
    if (!ok) fail("graph input '" + n.name + "' is declared " + shapeToString(want) + " but its value has shape " + shapeToString(got));
    return &it->second;
}

std::string Importer::nodeLabel(const onnx::NodeProto& n) const {
    std::string name = !n.name().empty() ? n.name() : (n.output_size() > 0 && !n.output(0).empty() ? n.output(0) : std::string("(unnamed)"));
    return "node '" + name + "' (" + (isDefaultDomain(n.domain()) ? std::string() : n.domain() + ".") + n.op_type() + ")";
}

void Importer::fail(const std::string& message) const {
    if (cur_) throw FormatError(where_ + ": " + nodeLabel(*cur_) + ": " + message);
    throw FormatError(where_ + ": " + message);
}

const std::string& Importer::inName(int i) const { return cur_->input(i); }

const std::string& Importer::out(int i) const {
    if (i >= cur_->output_size()) fail("has " + std::to_string(cur_->output_size()) + " outputs; output " + std::to_string(i) + " is missing");
    return cur_->output(i);
}

bool Importer::outputUsed(int i) const {
    return i < cur_->output_size() && !cur_->output(i).empty() && used_.count(cur_->output(i)) != 0;
}

void Importer::requireUnused(int i, const std::string& what) const {
    if (outputUsed(i)) fail("its output " + std::to_string(i) + " ('" + cur_->output(i) + "', " + what + ") is used, which is not supported");
}

const Value& Importer::value(int i) const {
    if (!has(i)) fail("input " + std::to_string(i) + " is missing");
    auto it = values_.find(cur_->input(i));
    if (it == values_.end()) fail("input '" + cur_->input(i) + "' is not defined");
    if (it->second.kind == Value::Kind::Error) fail(it->second.error);
    return it->second;
}

Value Importer::valueNamed(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) fail("'" + name + "' is not defined");
    if (it->second.kind == Value::Kind::Error) fail(it->second.error);
    return it->second;
}

ValueRef Importer::materialize(const std::string& name, Value& v) {
    if (v.kind == Value::Kind::PendingConstant) {
        v.ref = constantNode(v.constant, name);
        v.kind = Value::Kind::Float;
        v.constant = Tensor();
        return v.ref;
    }
    // Ints: a constant float node with the default binding's values, which must not vary.
    if (!v.ints.allConst()) fail("input '" + name + "' is an integer tensor that depends on a dynamic dimension (" + dynamicNote() + "); it cannot become a float value");
    std::vector<float> f;
    for (auto x : v.ints.values()) f.push_back(float(x));
    v.ref = constantNode(Tensor::fromVector(v.ints.shape, f), name);
    v.kind = Value::Kind::Float;
    v.ints = {};
    return v.ref;
}

ValueRef Importer::normalizeBool(Value& v) {
    if (!v.isBool || v.normalized) return v.ref;
    // nonzero -> 1, zero -> 0: 1 - (x == 0)
    const std::string stem = g_.node(v.ref.node).name;
    ValueRef zero = constantNode(Tensor::scalar(0.f), stem + "/zero");
    ValueRef one = constantNode(Tensor::scalar(1.f), stem + "/one");
    ValueRef isZero = emit(Op::Equal, {v.ref, zero}, {}, stem + "/is_zero");
    v.ref = emit(Op::Sub, {one, isZero}, {}, stem + "/as_bool");
    v.normalized = true;
    return v.ref;
}

ValueRef Importer::finRaw(int i) {
    value(i);  // checks presence and errors
    Value& v = values_.at(cur_->input(i));
    if (v.kind == Value::Kind::Indices) {
        return indicesAsFloat(cur_->input(i));
    }
    if (v.kind != Value::Kind::Float) return materialize(cur_->input(i), v);
    return v.ref;
}

ValueRef Importer::indicesAsFloat(const std::string& name) {
    auto it = values_.find(name);
    if (it == values_.end() || it->second.kind != Value::Kind::Indices) fail("'" + name + "' is not an INT64 graph input");
    Value& v = it->second;
    const DType type = g_.type(v.ref).dtype;
    if (isFloating(type))  // never narrowed silently: the op must compute in the value's own type
        fail("input '" + name + "' is " + std::string(dtypeName(type)) + ", and this op computes in float32 only (" + std::string(dtypeName(type)) +
             " values compute in " + (type == DType::F64 ? "elementwise ops, MatMul, ReduceSum/Mean/Max/LogSumExp, CumSum, Einsum, Cast and data movement"
                                                            : "elementwise ops, Cast and data movement") + ")");
    if (v.asFloat.node == kNoNode) v.asFloat = emit(Op::Cast, {v.ref}, {}, name + "/float");
    return v.asFloat;
}

ValueRef Importer::graphValue(int i) {
    if (isIndices(i)) return value(i).ref;
    return finRaw(i);
}

std::optional<DType> Importer::integerInputs() const {
    std::optional<DType> type;
    for (int i = 0; i < numInputs(); ++i) {
        if (!has(i)) continue;
        const Value& v = value(i);
        if (v.kind == Value::Kind::Indices) {
            if (!type) type = g_.type(v.ref).dtype;
        } else if (v.kind != Value::Kind::Ints) {
            return std::nullopt;
        }
    }
    return type;
}

ValueRef Importer::intIn(int i, DType type) {
    const Value& v = value(i);
    if (v.kind == Value::Kind::Indices) {
        if (g_.type(v.ref).dtype == type) return v.ref;
        return emit(Op::Cast, {v.ref}, {{"to", std::string(dtypeName(type))}}, cur_->input(i) + "/" + std::string(dtypeName(type)));
    }
    if (v.kind != Value::Kind::Ints) fail("input " + std::to_string(i) + " must be an integer tensor here");
    if (!v.ints.allConst()) fail("input '" + cur_->input(i) + "' is an integer tensor that depends on a dynamic dimension (" + dynamicNote() + ")");
    return constantNode(typedConstant(v.ints.shape, v.ints.values(), type, "input '" + cur_->input(i) + "'"), cur_->input(i));
}

Tensor Importer::typedConstant(const Shape& shape, const std::vector<std::int64_t>& values, DType type, const std::string& what) const {
    Tensor t = Tensor::empty(shape, type);
    visitDType(type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = t.ptr<T>();
        for (std::size_t k = 0; k < values.size(); ++k) {
            const std::int64_t x = values[k];
            if constexpr (decltype(tag)::dtype == DType::Bool) {
                p[k] = x != 0;
            } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16> || std::is_floating_point_v<T>) {
                const int digits = std::is_same_v<T, double> ? 53 : std::is_same_v<T, float> ? 24 : std::is_same_v<T, Half> ? 11 : 8;
                if (x > (std::int64_t(1) << digits) || x < -(std::int64_t(1) << digits))
                    fail(what + " holds " + std::to_string(x) + ", which " + std::string(dtypeName(type)) + " does not hold exactly");
                if constexpr (std::is_same_v<T, Half>) p[k] = toHalf(float(x));
                else if constexpr (std::is_same_v<T, BFloat16>) p[k] = toBFloat16(float(x));
                else p[k] = T(x);
            } else {
                if (!std::in_range<T>(x)) fail(what + " holds " + std::to_string(x) + ", beyond " + std::string(dtypeName(type)));
                p[k] = T(x);
            }
        }
    });
    return t;
}

void Importer::bindData(const std::string& name, ValueRef r) {
    if (g_.type(r).dtype != DType::F32 && g_.type(r).dtype != DType::Bool) bindIndices(name, r);
    else bindFloat(name, r);
}

ValueRef Importer::fin(int i) {
    const ValueRef r = finRaw(i);
    Value& v = values_.at(cur_->input(i));
    return v.kind == Value::Kind::Indices ? r : normalizeBool(v);
}

IntTensor Importer::integersOf(const Tensor& t, const std::string& label) const {
    IntTensor r;
    r.shape = t.shape();
    if (t.dtype() == DType::I64) {
        for (auto x : t.toInts()) r.data.push_back(symConst(x));
        return r;
    }
    for (float f : t.toVector()) {
        if (!(std::fabs(f) < 9.0e15f) || f != std::floor(f)) fail(label + " holds the non-integer value " + std::to_string(f));
        r.data.push_back(symConst(std::int64_t(f)));
    }
    return r;
}

const IntTensor& Importer::iin(int i, const std::string& what) {
    const Value& v = value(i);
    if (v.kind == Value::Kind::Ints) return v.ints;
    if (const Tensor* t = (v.kind == Value::Kind::Indices || v.kind == Value::Kind::Float) && v.ref.node != kNoNode ? knownInput(v.ref) : nullptr) {
        // a graph input given before importing: the graph is specialized to its value (kept
        // apart from the input's Value, which other nodes may still read when the graph runs)
        const std::string& name = g_.node(v.ref.node).name;
        auto it = knownInts_.find(name);
        if (it == knownInts_.end()) {
            if (t->numel() > kMaxIntElements) fail(what + " (graph input '" + name + "') holds more than " + std::to_string(kMaxIntElements) + " values");
            it = knownInts_.emplace(name, integersOf(*t, what + " (graph input '" + name + "')")).first;
        }
        return it->second;
    }
    if (v.kind == Value::Kind::Indices)
        fail(what + " (input '" + cur_->input(i) + "') is known only when the graph runs (it comes from graph input '" + g_.node(v.ref.node).name +
             "'); this op needs it while importing");
    // A float constant with integral values (rare in valid models) is accepted as integers.
    const Tensor* t = nullptr;
    if (v.kind == Value::Kind::PendingConstant) t = &v.constant;
    else if (v.kind == Value::Kind::Float && g_.node(v.ref.node).op == Op::Constant) t = &g_.node(v.ref.node).value;
    if (t && t->numel() <= kMaxIntElements) {
        IntTensor r = integersOf(*t, what + " (input '" + cur_->input(i) + "')");
        Value& mv = values_.at(cur_->input(i));
        mv = Value{};
        mv.kind = Value::Kind::Ints;
        mv.ints = std::move(r);
        return mv.ints;
    }
    fail(what + " (input '" + cur_->input(i) + "') must be a constant or an initializer (or computed from shapes); here it is computed from the graph's float values");
}

std::vector<std::int64_t> Importer::constInts(int i, const std::string& what) {
    const IntTensor& t = iin(i, what);
    if (!t.allConst()) fail(what + " (input '" + cur_->input(i) + "') depends on a dynamic dimension (" + dynamicNote() + "), which this op cannot express");
    return t.values();
}

double Importer::constScalar(int i, const std::string& what) {
    const Value& v = value(i);
    const Tensor* t = nullptr;
    if (v.kind == Value::Kind::Ints) {
        if (v.ints.data.size() != 1 || !symIsConst(v.ints.data[0])) fail(what + " (input '" + cur_->input(i) + "') must be a constant scalar");
        return double(v.ints.data[0][0]);
    }
    if (v.kind == Value::Kind::PendingConstant) t = &v.constant;
    else if (g_.node(v.ref.node).op == Op::Constant || g_.node(v.ref.node).op == Op::Parameter) t = &g_.node(v.ref.node).value;
    else t = knownInput(v.ref);
    if (!t || t->numel() != 1) fail(what + " (input '" + cur_->input(i) + "') must be a constant scalar");
    if (isIntegral(t->dtype())) return double(t->toInts()[0]);
    return t->flatAt(0);
}

const onnx::AttributeProto* Importer::attr(const std::string& name) const {
    for (const auto& a : cur_->attribute())
        if (a.name() == name) return &a;
    return nullptr;
}

namespace {
void checkAttrType(const Importer& I, const onnx::AttributeProto& a, onnx::AttributeProto::AttributeType want, bool present) {
    if (a.type() == want) return;
    if (a.type() == onnx::AttributeProto::UNDEFINED && present) return;  // old files leave the type out
    I.fail("attribute '" + a.name() + "' must be " + attrTypeText(want) + ", got " + attrTypeText(a.type()));
}
}  // namespace

std::int64_t Importer::attrInt(const std::string& name, std::int64_t def) const {
    const auto* a = attr(name);
    if (!a) return def;
    checkAttrType(*this, *a, onnx::AttributeProto::INT, a->has_i());
    return a->i();
}

double Importer::attrFloat(const std::string& name, double def) const {
    const auto* a = attr(name);
    if (!a) return def;
    checkAttrType(*this, *a, onnx::AttributeProto::FLOAT, a->has_f());
    if (!std::isfinite(a->f())) fail("attribute '" + name + "' is not finite");
    return double(a->f());
}

std::optional<std::vector<std::int64_t>> Importer::attrInts(const std::string& name) const {
    const auto* a = attr(name);
    if (!a) return std::nullopt;
    checkAttrType(*this, *a, onnx::AttributeProto::INTS, a->ints_size() > 0);
    if (a->ints_size() > 1024) fail("attribute '" + name + "' has " + std::to_string(a->ints_size()) + " values, too many");
    return std::vector<std::int64_t>(a->ints().begin(), a->ints().end());
}

std::string Importer::attrString(const std::string& name, const std::string& def) const {
    const auto* a = attr(name);
    if (!a) return def;
    checkAttrType(*this, *a, onnx::AttributeProto::STRING, a->has_s());
    return a->s();
}

std::optional<std::vector<std::int64_t>> Importer::axesOf(int index, std::int64_t inputSince) {
    if (opset_ >= inputSince) {
        if (attr("axes")) fail("attribute 'axes' is an input from opset " + std::to_string(inputSince) + " on");
        if (!has(index)) return std::nullopt;
        return constInts(index, "axes");
    }
    return attrInts("axes");
}

ValueRef Importer::constantNode(const Tensor& t, const std::string& stem) {
    NodeId id = g_.addConstant(t, g_.freshName(stem));
    return {id, 0};
}

NodeId Importer::emitNode(Op op, std::vector<ValueRef> inputs, Attributes attrs, const std::string& stem) {
    std::vector<ValueType> ins;
    for (const auto& v : inputs) ins.push_back(g_.type(v));
    NodeId id = g_.addNode(op, inputs, std::move(attrs), g_.freshName(stem));
    Node& n = g_.node(id);
    try {
        n.outputs = inferNodeTypes(n, ins);
    } catch (const GraphError& e) {
        g_.removeNodeForce(id);
        fail(stripNodePrefix(e.what()));
    }
    // The same node at the probe bindings; where inference fails there (a model valid for one
    // batch size only), the value is taken for constant.
    if (std::none_of(inputs.begin(), inputs.end(), [&](const ValueRef& v) { return probes_.count(v) != 0; })) return id;
    std::array<std::vector<ValueType>, 2> probeOuts;
    bool differs = false;
    for (std::size_t k = 0; k < 2; ++k) {
        std::vector<ValueType> probeIns = ins;
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            auto it = probes_.find(inputs[i]);
            if (it != probes_.end()) probeIns[i].shape = it->second[k];
        }
        try {
            probeOuts[k] = inferNodeTypes(n, probeIns);
        } catch (const Error&) {
            probeOuts[k] = n.outputs;
        }
        if (probeOuts[k].size() != n.outputs.size()) probeOuts[k] = n.outputs;
        for (std::size_t p = 0; p < n.outputs.size(); ++p) differs = differs || probeOuts[k][p].shape != n.outputs[p].shape;
    }
    if (differs)
        for (std::size_t p = 0; p < n.outputs.size(); ++p) probes_[ValueRef{id, int(p)}] = {probeOuts[0][p].shape, probeOuts[1][p].shape};
    return id;
}

std::vector<Sym> Importer::symShape(ValueRef v) const {
    const Shape& real = g_.type(v).shape;
    std::vector<Sym> r;
    auto it = probes_.find(v);
    for (std::size_t d = 0; d < real.size(); ++d) {
        Sym s = symConst(real[d]);
        if (it != probes_.end() && it->second[0].size() == real.size() && it->second[1].size() == real.size()) {
            s[1] = it->second[0][d];
            s[2] = it->second[1][d];
        }
        r.push_back(s);
    }
    return r;
}

std::string Importer::dynamicNote() const {
    std::string s;
    for (const auto& [name, probe] : dimProbes_) s += (s.empty() ? "" : ", ") + name;
    return s.empty() ? std::string("none declared") : s;
}

void Importer::bindValue(const std::string& name, Value v) {
    if (name.empty()) return;
    values_[name] = std::move(v);
}

void Importer::bindFloat(const std::string& name, ValueRef r, bool isBool) {
    Value v;
    v.kind = Value::Kind::Float;
    v.ref = r;
    v.isBool = isBool;
    bindValue(name, std::move(v));
}

void Importer::bindInts(const std::string& name, IntTensor t) {
    if (std::int64_t(t.data.size()) > kMaxIntElements) fail("its integer result has " + std::to_string(t.data.size()) + " elements, more than " + std::to_string(kMaxIntElements));
    Value v;
    v.kind = Value::Kind::Ints;
    v.ints = std::move(t);
    bindValue(name, std::move(v));
}

void Importer::bindIndices(const std::string& name, ValueRef ref) {
    Value v;
    v.kind = Value::Kind::Indices;
    v.ref = ref;
    bindValue(name, std::move(v));
}

void Importer::bindPending(const std::string& name, Tensor t) {
    Value v;
    v.kind = Value::Kind::PendingConstant;
    v.constant = std::move(t);
    bindValue(name, std::move(v));
}

}  // namespace adj::onnx_io
