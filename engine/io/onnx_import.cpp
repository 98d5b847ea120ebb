#include "io/onnx_import.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>

#include "base/errors.h"
#include "base/files.h"
#include "io/onnx_importer.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"

namespace adj {

namespace onnx_io {

namespace {

/// Integer tensors that the importer evaluates (shapes, axes, indices) hold at most this many
/// elements; larger integer initializers are fine as long as nothing reads them.
constexpr std::int64_t kMaxIntElements = std::int64_t(1) << 16;

/// Probe sizes of dynamic dimensions, by order of first appearance (wrapping after 16 names).
constexpr std::array<std::int64_t, 16> kProbeA = {7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67};
constexpr std::array<std::int64_t, 16> kProbeB = {71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149};

bool isDefaultDomain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

/// Shape errors from inference start with "node '<our name>' (<op>): "; the importer names the
/// ONNX node instead.
std::string stripNodePrefix(const std::string& msg) {
    if (msg.rfind("node '", 0) != 0) return msg;
    auto p = msg.find("): ");
    return p == std::string::npos ? msg : msg.substr(p + 3);
}

std::string attrTypeText(int t) {
    if (onnx::AttributeProto_AttributeType_IsValid(t)) return onnx::AttributeProto_AttributeType_Name(onnx::AttributeProto_AttributeType(t));
    return "type " + std::to_string(t);
}

}  // namespace

bool IntTensor::allConst() const {
    return std::all_of(data.begin(), data.end(), symIsConst);
}

std::vector<std::int64_t> IntTensor::values() const {
    std::vector<std::int64_t> v;
    v.reserve(data.size());
    for (const auto& s : data) v.push_back(s[0]);
    return v;
}

Importer::Importer(const onnx::ModelProto& model, std::string where) : model_(model), gp_(model.graph()), where_(std::move(where)) {}

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
    if (v.kind != Value::Kind::Float) return materialize(cur_->input(i), v);
    return v.ref;
}

ValueRef Importer::fin(int i) {
    finRaw(i);
    return normalizeBool(values_.at(cur_->input(i)));
}

const IntTensor& Importer::iin(int i, const std::string& what) {
    const Value& v = value(i);
    if (v.kind == Value::Kind::Ints) return v.ints;
    // A float constant with integral values (rare in valid models) is accepted as integers.
    const Tensor* t = nullptr;
    if (v.kind == Value::Kind::PendingConstant) t = &v.constant;
    else if (v.kind == Value::Kind::Float && g_.node(v.ref.node).op == Op::Constant) t = &g_.node(v.ref.node).value;
    if (t && t->numel() <= kMaxIntElements) {
        IntTensor r;
        r.shape = t->shape();
        for (float f : t->toVector()) {
            if (!(std::fabs(f) < 9.0e15f) || f != std::floor(f)) fail(what + " (input '" + cur_->input(i) + "') holds the non-integer value " + std::to_string(f));
            r.data.push_back(symConst(std::int64_t(f)));
        }
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
    if (!t || t->numel() != 1) fail(what + " (input '" + cur_->input(i) + "') must be a constant scalar");
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

void Importer::bindPending(const std::string& name, Tensor t) {
    Value v;
    v.kind = Value::Kind::PendingConstant;
    v.constant = std::move(t);
    bindValue(name, std::move(v));
}

// ---- model-level checks ----

void Importer::checkOpsets() {
    bool found = false;
    for (const auto& o : model_.opset_import()) {
        if (isDefaultDomain(o.domain())) {
            found = true;
            opset_ = o.version();
        }
    }
    if (!found) fail("the model imports no opset of the default ONNX domain");
    if (opset_ < kImportOpsetMin || opset_ > kImportOpsetMax)
        fail("opset " + std::to_string(opset_) + " of the default domain is not supported (this importer reads opsets " + std::to_string(kImportOpsetMin) + " to " +
             std::to_string(kImportOpsetMax) + ")");
}

namespace {

/// Calls f on every node of g and of its subgraphs (If branches), depth first. protobuf's
/// recursion limit bounds the nesting.
void forEachNode(const onnx::GraphProto& g, const std::function<void(const onnx::NodeProto&)>& f) {
    for (const auto& n : g.node()) {
        f(n);
        for (const auto& a : n.attribute()) {
            if (a.has_g()) forEachNode(a.g(), f);
            for (const auto& sub : a.graphs()) forEachNode(sub, f);
        }
    }
}

/// The values of enclosing graphs that g's nodes (and their subgraphs) read.
std::set<std::string> outerReads(const onnx::GraphProto& g) {
    std::set<std::string> defined, reads;
    for (const auto& t : g.initializer()) defined.insert(t.name());
    for (const auto& i : g.input()) defined.insert(i.name());
    for (const auto& n : g.node()) {
        for (const auto& i : n.input())
            if (!i.empty()) reads.insert(i);
        for (const auto& a : n.attribute()) {
            if (a.has_g()) reads.merge(outerReads(a.g()));
            for (const auto& sub : a.graphs()) reads.merge(outerReads(sub));
        }
        for (const auto& o : n.output()) defined.insert(o);
    }
    for (const auto& o : g.output()) reads.insert(o.name());
    std::set<std::string> r;
    for (const auto& name : reads)
        if (!defined.count(name)) r.insert(name);
    return r;
}

/// What a node reads: its inputs and the outer values its subgraphs use.
std::set<std::string> nodeReads(const onnx::NodeProto& n) {
    std::set<std::string> r;
    for (const auto& i : n.input())
        if (!i.empty()) r.insert(i);
    for (const auto& a : n.attribute()) {
        if (a.has_g()) r.merge(outerReads(a.g()));
        for (const auto& sub : a.graphs()) r.merge(outerReads(sub));
    }
    return r;
}

}  // namespace

void Importer::checkSupported() {
    // Every unsupported op type with its node names, in one message.
    std::map<std::string, std::vector<std::string>> unsupported;
    const auto& table = handlers();
    forEachNode(gp_, [&](const onnx::NodeProto& n) {
        std::string type;
        if (isDefaultDomain(n.domain())) {
            if (!table.count(n.op_type())) type = n.op_type();
        } else if (n.domain() == kAdjointDomain) {
            auto op = opFromName(n.op_type());
            if (!op || isSource(*op)) type = n.domain() + "." + n.op_type();
        } else {
            type = n.domain() + "." + n.op_type();
        }
        if (type.empty()) return;
        std::string name = !n.name().empty() ? n.name() : (n.output_size() ? n.output(0) : std::string("(unnamed)"));
        unsupported[type].push_back(name);
    });
    if (unsupported.empty()) return;
    std::string msg = "unsupported ONNX op" + std::string(unsupported.size() > 1 ? "s" : "") + ": ";
    bool first = true;
    for (const auto& [type, names] : unsupported) {
        msg += (first ? "" : ", ") + type + " (node" + (names.size() > 1 ? "s " : " ");
        first = false;
        for (std::size_t i = 0; i < names.size() && i < 3; ++i) msg += (i ? ", '" : "'") + names[i] + "'";
        if (names.size() > 3) msg += " and " + std::to_string(names.size() - 3) + " more";
        msg += ")";
    }
    fail(msg + " (docs/ONNX.md lists the supported ops)");
}

void Importer::checkStructure() {
    std::set<std::string> defined;
    for (const auto& t : gp_.initializer()) {
        if (t.name().empty()) fail("an initializer has no name");
        if (!defined.insert(t.name()).second) fail("initializer '" + t.name() + "' is defined twice");
    }
    std::set<std::string> initNames = defined;
    for (const auto& in : gp_.input()) {
        if (in.name().empty()) fail("a graph input has no name");
        if (initNames.count(in.name())) continue;
        if (!defined.insert(in.name()).second) fail("graph input '" + in.name() + "' is declared twice");
    }
    // Values of If branches count too: ONNX names are unique across all scopes.
    forEachNode(gp_, [&](const onnx::NodeProto& n) {
        for (const auto& o : n.output())
            if (!o.empty() && !defined.insert(o).second) fail(nodeLabel(n) + ": its output '" + o + "' is already defined (ONNX values are assigned once)");
        for (const auto& a : n.attribute()) {
            const bool graphAttr = a.type() == onnx::AttributeProto::GRAPH || a.type() == onnx::AttributeProto::GRAPHS || a.has_g() || a.graphs_size();
            if (!graphAttr) continue;
            if (n.op_type() != "If" || !isDefaultDomain(n.domain())) fail(nodeLabel(n) + ": subgraph attributes are supported for If only");
            if (a.has_g())
                for (const auto& t : a.g().initializer())
                    if (!defined.insert(t.name()).second) fail(nodeLabel(n) + ": initializer '" + t.name() + "' of a branch is already defined");
        }
    });
    forEachNode(gp_, [&](const onnx::NodeProto& n) {
        for (const auto& i : nodeReads(n)) {
            used_.insert(i);
            if (!defined.count(i)) fail(nodeLabel(n) + ": input '" + i + "' is not defined (no graph input, initializer or node output has this name)");
        }
    });
    if (gp_.output_size() == 0) fail("the graph has no outputs");
    for (const auto& o : gp_.output()) {
        used_.insert(o.name());
        if (!defined.count(o.name())) fail("graph output '" + o.name() + "' is not defined (no graph input, initializer or node output has this name)");
    }
    if (gp_.sparse_initializer_size() > 0) fail("sparse initializers are not supported");
}

std::vector<int> Importer::topoOrder() {
    // Kahn's algorithm over nodes; ties in file order.
    const int count = gp_.node_size();
    std::unordered_map<std::string, int> producer;
    for (int i = 0; i < count; ++i)
        for (const auto& o : gp_.node(i).output())
            if (!o.empty()) producer[o] = i;
    std::vector<int> pending(std::size_t(count), 0);
    std::vector<std::vector<int>> consumers(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i)
        for (const auto& in : nodeReads(gp_.node(i))) {
            auto it = producer.find(in);
            if (it == producer.end()) continue;
            ++pending[std::size_t(i)];
            consumers[std::size_t(it->second)].push_back(i);
        }
    std::set<int> ready;
    for (int i = 0; i < count; ++i)
        if (!pending[std::size_t(i)]) ready.insert(i);
    std::vector<int> order;
    while (!ready.empty()) {
        int i = *ready.begin();
        ready.erase(ready.begin());
        order.push_back(i);
        for (int c : consumers[std::size_t(i)])
            if (--pending[std::size_t(c)] == 0) ready.insert(c);
    }
    if (int(order.size()) != count) {
        for (int i = 0; i < count; ++i)
            if (pending[std::size_t(i)]) fail("the graph has a cycle through " + nodeLabel(gp_.node(i)));
    }
    return order;
}

namespace {
/// The declared sizes this project's exporter stores for an input with dynamic dims; empty when
/// absent or unreadable.
Shape declaredShapeOf(const onnx::ModelProto& m, const std::string& input) {
    for (const auto& p : m.metadata_props()) {
        if (p.key() != kDeclaredShapeKey + input) continue;
        Shape s;
        std::size_t at = 0;
        const std::string& v = p.value();
        while (at <= v.size() && !v.empty()) {
            const std::size_t comma = std::min(v.find(',', at), v.size());
            const std::string item = v.substr(at, comma - at);
            if (item.empty() || item.size() > 12 || item.find_first_not_of("0123456789") != std::string::npos) return {};
            s.push_back(std::stoll(item));
            at = comma + 1;
        }
        return shapeIsSane(s) ? s : Shape{};
    }
    return {};
}
}  // namespace

void Importer::addInputs() {
    std::set<std::string> initNames;
    for (const auto& t : gp_.initializer()) initNames.insert(t.name());
    for (const auto& in : gp_.input()) {
        if (initNames.count(in.name())) continue;
        const std::string what = "graph input '" + in.name() + "'";
        if (!in.type().has_tensor_type()) {
            Value v;
            v.kind = Value::Kind::Error;
            v.error = what + " is not a tensor; only float tensor inputs are supported";
            values_[in.name()] = v;
            continue;
        }
        const auto& tt = in.type().tensor_type();
        if (!isFloatType(tt.elem_type())) {
            Value v;
            v.kind = Value::Kind::Error;
            v.error = what + " has element type " + dataTypeName(tt.elem_type()) + "; only float inputs are supported";
            values_[in.name()] = v;
            continue;
        }
        if (!tt.has_shape()) fail(what + " has no shape (its rank is needed)");
        if (tt.shape().dim_size() > kMaxRank) fail(what + " has " + std::to_string(tt.shape().dim_size()) + " dimensions, more than " + std::to_string(kMaxRank));
        Shape shape;
        std::vector<std::string> dims;
        std::array<Shape, 2> probe;
        Shape declared = declaredShapeOf(model_, in.name());
        if (std::int64_t(declared.size()) != tt.shape().dim_size()) declared.clear();
        bool dynamic = false;
        for (int d = 0; d < tt.shape().dim_size(); ++d) {
            const auto& dim = tt.shape().dim(d);
            std::string name;
            if (dim.has_dim_value()) {
                if (dim.dim_value() < 0) fail(what + " has a negative dimension (" + std::to_string(dim.dim_value()) + ")");
                if (dim.dim_value() > kMaxElements) fail(what + " has an absurd dimension (" + std::to_string(dim.dim_value()) + ")");
                shape.push_back(dim.dim_value());
                for (auto& p : probe) p.push_back(dim.dim_value());
                dims.emplace_back();
                continue;
            }
            name = dim.has_dim_param() && !dim.dim_param().empty() ? dim.dim_param() : in.name() + "_dim" + std::to_string(d);
            dynamic = true;
            if (!dimProbes_.count(name)) {
                const std::size_t k = dimProbes_.size() % kProbeA.size();
                dimProbes_[name] = {kProbeA[k], kProbeB[k]};
            }
            const std::int64_t def = declared.empty() ? 1 : declared[std::size_t(d)];
            shape.push_back(def);
            probe[0].push_back(def * dimProbes_[name][0]);
            probe[1].push_back(def * dimProbes_[name][1]);
            dims.push_back(name);
        }
        if (!shapeIsSane(shape)) fail(what + " has dims " + shapeToString(shape) + ", which are too large");
        NodeId id = g_.addInput(in.name(), shape, dims);
        if (dynamic) probes_[ValueRef{id, 0}] = probe;
        bindFloat(in.name(), {id, 0});
    }
}

void Importer::addInitializers() {
    for (const auto& t : gp_.initializer()) addInitializer(t);
}

void Importer::addInitializer(const onnx::TensorProto& t) {
    {
        const std::string what = "initializer '" + t.name() + "'";
        const int type = t.data_type();
        if (isFloatType(type)) {
            NodeId id = g_.addParameter(t.name(), readFloatTensor(t, where_ + ": " + what));
            bindFloat(t.name(), {id, 0});
        } else if (isIntegerType(type)) {
            // Checked now (data size against dims), evaluated when something reads it.
            const Shape shape = checkTensorData(t, where_ + ": " + what);
            Value v;
            if (numel(shape) > kMaxIntElements) {
                v.kind = Value::Kind::Error;
                v.error = what + " is an integer tensor of " + std::to_string(numel(shape)) + " elements; integer tensors that the importer evaluates (shapes, axes, indices) are limited to " + std::to_string(kMaxIntElements);
            } else {
                v.kind = Value::Kind::Ints;
                v.ints.shape = shape;
                for (auto x : readIntTensor(t, where_ + ": " + what, kMaxIntElements)) v.ints.data.push_back(symConst(x));
            }
            values_[t.name()] = std::move(v);
        } else {
            if (!onnx::TensorProto_DataType_IsValid(type) || type == onnx::TensorProto::UNDEFINED)
                fail(what + " has an invalid data type (" + std::to_string(type) + ")");
            Value v;
            v.kind = Value::Kind::Error;
            v.error = what + " has data type " + dataTypeName(type) + ", which is not supported (float, double and integer tensors are)";
            values_[t.name()] = std::move(v);
        }
    }
}

void Importer::convertCustom(const onnx::NodeProto& n) {
    const Op op = *opFromName(n.op_type());
    std::vector<ValueRef> ins;
    for (int i = 0; i < n.input_size(); ++i) {
        if (!has(i)) fail("input " + std::to_string(i) + " is empty; ops of the ai.adjoint domain take no optional inputs");
        ins.push_back(fin(i));
    }
    Attributes attrs;
    for (const auto& a : n.attribute()) {
        switch (a.type()) {
            case onnx::AttributeProto::INT: attrs.set(a.name(), std::int64_t(a.i())); break;
            case onnx::AttributeProto::FLOAT: attrs.set(a.name(), double(a.f())); break;
            case onnx::AttributeProto::STRING: attrs.set(a.name(), a.s()); break;
            case onnx::AttributeProto::INTS: attrs.set(a.name(), std::vector<std::int64_t>(a.ints().begin(), a.ints().end())); break;
            case onnx::AttributeProto::FLOATS: {
                std::vector<double> f(a.floats().begin(), a.floats().end());
                attrs.set(a.name(), f);
                break;
            }
            default: fail("attribute '" + a.name() + "' has type " + attrTypeText(a.type()) + ", which the op table does not use");
        }
    }
    Node probe;
    probe.op = op;
    probe.name = n.output_size() ? n.output(0) : std::string();
    probe.attrs = attrs;
    auto problems = checkAttributes(probe);
    if (!problems.empty()) fail(stripNodePrefix(problems.front()));
    if (n.output_size() != 1 && op != Op::Split) fail("has " + std::to_string(n.output_size()) + " outputs, expected 1");
    NodeId id = emitNode(op, ins, attrs, op == Op::Split && !n.name().empty() ? n.name() : out(0));
    for (int k = 0; k < n.output_size() && k < g_.node(id).numOutputs(); ++k) bindFloat(n.output(k), {id, k});
}

void Importer::convert(const onnx::NodeProto& n) {
    const onnx::NodeProto* outer = cur_;
    cur_ = &n;
    if (n.domain() == kAdjointDomain) convertCustom(n);
    else handlers().at(n.op_type())(*this);
    cur_ = outer;
}

void Importer::inlineBranch(const onnx::GraphProto& branch) {
    for (const auto& t : branch.initializer()) addInitializer(t);
    for (const auto& n : branch.node()) {
        for (const auto& i : nodeReads(n))
            if (!values_.count(i)) fail("in its branch, " + nodeLabel(n) + " reads '" + i + "' before it is computed (branch nodes must be in topological order)");
        convert(n);
    }
}

void Importer::addOutputs() {
    // Output names this project's exporter had to change (kOutputNameKey), restored when unique.
    std::map<std::string, std::string> original;
    std::set<std::string> onnxOutputs;
    for (const auto& o : gp_.output()) onnxOutputs.insert(o.name());
    for (const auto& p : model_.metadata_props())
        if (p.key().rfind(kOutputNameKey, 0) == 0 && !p.value().empty() && !onnxOutputs.count(p.value()))
            original[p.key().substr(std::string(kOutputNameKey).size())] = p.value();
    std::set<std::string> taken;
    for (const auto& o : gp_.output()) {
        auto it = values_.find(o.name());
        Value& v = it->second;
        const std::string what = "graph output '" + o.name() + "'";
        if (v.kind == Value::Kind::Error) fail(v.error);
        if (v.kind == Value::Kind::Ints) {
            if (!v.ints.allConst()) fail(what + " is an integer tensor that depends on a dynamic dimension; only float outputs are supported");
            materialize(o.name(), v);
        } else if (v.kind == Value::Kind::PendingConstant) {
            materialize(o.name(), v);
        }
        auto orig = original.find(o.name());
        std::string outName = orig != original.end() && !taken.count(orig->second) ? orig->second : o.name();
        if (!taken.insert(outName).second) fail("graph output '" + o.name() + "' is listed twice");
        g_.addOutput(outName, normalizeBool(v));
    }
}

Graph Importer::run() {
    checkOpsets();
    checkSupported();
    checkStructure();
    const std::vector<int> order = topoOrder();
    g_.name = gp_.name();
    g_.description = !model_.doc_string().empty() ? model_.doc_string() : gp_.doc_string();
    addInputs();
    addInitializers();
    for (int i : order) convert(gp_.node(i));
    addOutputs();
    return std::move(g_);
}

}  // namespace onnx_io

namespace {

/// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool isValidUtf8(const std::string& s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    for (std::size_t i = 0; i < n;) {
        const unsigned c = p[i];
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (len == 0 || i + len > n) return false;
        std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        for (std::size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

/// The text with every byte outside printable ASCII written as \xHH, for error messages.
std::string escapedBytes(const std::string& s) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7F) {
            out += char(c);
        } else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

/// Every name and text the imported graph carries must be UTF-8: ONNX (protobuf 2) does not check
/// its strings, while the JSON format, the printer and the GUI need text.
void requireUtf8Text(const Graph& g, const std::string& where) {
    auto check = [&](const std::string& text, const std::string& what) {
        if (!isValidUtf8(text)) throw FormatError(where + ": " + what + " '" + escapedBytes(text) + "' is not valid UTF-8");
    };
    check(g.name, "the graph name");
    check(g.description, "the model's doc string");
    for (NodeId id : g.nodeIds()) {
        const Node& n = g.node(id);
        check(n.name, "the name");
        const std::string of = " of '" + escapedBytes(n.name) + "'";
        for (const auto& d : n.dimNames) check(d, "a dimension name" + of);
        for (const auto& [k, v] : n.attrs.map()) {
            check(k, "an attribute name" + of);
            if (const auto* text = std::get_if<std::string>(&v)) check(*text, "attribute " + escapedBytes(k) + of);
        }
        for (const auto& [k, v] : n.meta) {
            check(k, "a metadata key" + of);
            check(v, "metadata " + escapedBytes(k) + of);
        }
    }
    for (const auto& o : g.outputs()) check(o.name, "the output name");
}

}  // namespace

Graph parseGraphOnnx(const std::string& bytes, const std::string& where) {
    onnx::ModelProto model;
    onnx_io::parseModel(bytes, where, model);
    try {
        Graph g = onnx_io::Importer(model, where).run();
        requireUtf8Text(g, where);
        return g;
    } catch (const FormatError&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw FormatError(where + ": out of memory while importing");
    } catch (const std::exception& e) {
        // Anything else (a graph-building precondition) is still a problem of the file.
        throw FormatError(where + ": " + e.what());
    }
}

Graph loadGraphOnnx(const std::string& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > std::uintmax_t(onnx_io::kMaxModelBytes)) throw FormatError(path + ": the file is 2 GiB or larger, more than protobuf can read");
    return parseGraphOnnx(readFileBytes(path), path);
}

bool looksLikeOnnx(const std::string& bytes) {
    try {
        onnx::ModelProto model;
        onnx_io::parseModel(bytes, "", model);
        return true;
    } catch (const Error&) {
        return false;
    }
}

std::vector<std::string> onnxImportedOps() {
    std::vector<std::string> r;
    for (const auto& [name, h] : onnx_io::Importer::handlers()) r.push_back(name);
    return r;
}

}  // namespace adj
