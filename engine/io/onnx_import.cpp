#include "io/onnx_import.h"

#include <algorithm>
#include <array>
#include <filesystem>

#include "base/errors.h"
#include "base/files.h"
#include "io/onnx_importer.h"
#include "ir/group_tree.h"
#include "ir/element_types.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"

namespace adj {

namespace onnx_io {

namespace {

/// Probe sizes of dynamic dimensions, by order of first appearance (wrapping after 16 names).
constexpr std::array<std::int64_t, 16> kProbeA = {7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67};
constexpr std::array<std::int64_t, 16> kProbeB = {71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149};

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
        // f32 values are Float; bool values become 0/1 masks; every other type stays itself (Indices)
        const std::optional<DType> type = dtypeOfOnnx(tt.elem_type());
        if (!type) {
            Value v;
            v.kind = Value::Kind::Error;
            v.error = what + " has element type " + dataTypeName(tt.elem_type()) + "; only numeric and bool inputs are supported";
            values_[in.name()] = v;
            continue;
        }
        const bool truth = *type == DType::Bool;
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
        NodeId id = g_.addInput(in.name(), shape, dims, *type);
        if (dynamic) probes_[ValueRef{id, 0}] = probe;
        if (*type != DType::F32 && !truth) {
            bindIndices(in.name(), {id, 0});
        } else if (truth) {  // a bool input read as a 0/1 mask, the form masks have in the graph
            const ValueRef mask = emit(Op::Cast, {ValueRef{id, 0}}, {}, in.name() + "/mask");
            bindFloat(in.name(), mask, true);
        } else {
            bindFloat(in.name(), {id, 0});
        }
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
        // the Index family's input 1 is its int64 indices
        ins.push_back(takesIndices(op, std::size_t(i)) ? graphValue(i) : fin(i));
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
    else if (n.domain() == kTrainingDomain) handlers().at(n.domain() + "." + n.op_type())(*this);
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

std::string Importer::producerNote(const std::string& value) const {
    for (const auto& n : gp_.node())
        for (const auto& out : n.output())
            if (out == value) return " (of node '" + n.name() + "', " + n.op_type() + ")";
    return {};
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
        // An output has the element type the file declares (masks cast to bool, integers computed
        // as integers or cast from the float values that carried them). A value computed in
        // float32 is not written as a wider or narrower float type, which would claim a precision
        // it was not computed in.
        const int declared = o.type().tensor_type().elem_type();
        using T = onnx::TensorProto;
        // (an output without a declared type keeps its value's: float32, or an Indices value's own)
        const std::optional<DType> declaredType = declared != T::UNDEFINED        ? dtypeOfOnnx(declared)
                                                  : v.kind == Value::Kind::Indices ? g_.type(v.ref).dtype
                                                                                   : DType::F32;
        if (!declaredType) fail(what + producerNote(o.name()) + " has element type " + dataTypeName(declared) + ", which Adjoint does not write");
        const DType type = *declaredType;
        if (v.kind == Value::Kind::Indices && type == DType::F32 && declared != T::UNDEFINED)
            fail(what + " is " + std::string(dtypeName(g_.type(v.ref).dtype)) + " but declared " + dataTypeName(declared));
        const bool computedInF32 = v.kind == Value::Kind::Float || (v.kind == Value::Kind::Indices && g_.type(v.ref).dtype == DType::F32);
        if ((type == DType::F64 || isHalf(type)) && computedInF32)
            fail(what + producerNote(o.name()) + " is declared " + dataTypeName(declared) +
                 " but was computed in float32 here (an op on its path computes in float32 only); it is not written as " + dataTypeName(declared));
        ValueRef result;
        if (v.kind == Value::Kind::Ints && type != DType::F32) {
            if (!v.ints.allConst()) fail(what + " is an integer tensor that depends on a dynamic dimension (" + dynamicNote() + ")");
            Tensor t = Tensor::fromInts(v.ints.shape, v.ints.values());
            result = constantNode(t, o.name());
        } else {
            if (v.kind == Value::Kind::Ints) {
                if (!v.ints.allConst()) fail(what + " is an integer tensor that depends on a dynamic dimension; only float outputs are supported");
                materialize(o.name(), v);
            } else if (v.kind == Value::Kind::PendingConstant) {
                materialize(o.name(), v);
            }
            result = v.kind == Value::Kind::Indices ? v.ref : normalizeBool(v);
        }
        if (g_.type(result).dtype != type)
            result = emit(Op::Cast, {result}, {{"to", std::string(dtypeName(type))}}, o.name() + "/" + std::string(dtypeName(type)));
        auto orig = original.find(o.name());
        std::string outName = orig != original.end() && !taken.count(orig->second) ? orig->second : o.name();
        if (!taken.insert(outName).second) fail("graph output '" + o.name() + "' is listed twice");
        g_.addOutput(outName, result);
    }
}

void Importer::scopeNodesSince(NodeId first, const onnx::NodeProto& n) {
    const std::string scope = scopeOfName(!n.name().empty() ? n.name() : n.output_size() ? n.output(0) : std::string());
    if (scope.empty()) return;
    for (NodeId id = first; id < g_.idBound(); ++id)
        if (g_.contains(id) && !isSource(g_.node(id).op)) g_.node(id).meta.emplace(kGroupKey, scope);
}

Graph Importer::run() {
    checkOpsets();
    checkSupported();
    checkOldDefinitions();
    checkStructure();
    const std::vector<int> order = topoOrder();
    g_.name = gp_.name();
    g_.description = !model_.doc_string().empty() ? model_.doc_string() : gp_.doc_string();
    addInputs();
    addInitializers();
    for (int i : order) {
        const NodeId first = g_.idBound();
        convert(gp_.node(i));
        scopeNodesSince(first, gp_.node(i));
    }
    addOutputs();
    tidyImportedGroups(g_);
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

Graph parseGraphOnnx(std::string_view bytes, const std::string& where, const KnownInputs& known) {
    onnx::ModelProto model;
    onnx_io::WeightSpans weights;  // the large initializers' data, read from `bytes` itself
    onnx_io::parseModel(bytes, where, model, &weights);
    const onnx_io::ScopedWeightSpans reading(&weights);
    try {
        Graph g = onnx_io::Importer(model, where, known).run();
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

Graph loadGraphOnnx(const std::string& path, const KnownInputs& known) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > std::uintmax_t(onnx_io::kMaxModelBytes)) throw FormatError(path + ": the file is 2 GiB or larger, more than protobuf can read");
    const MappedFile file(path);  // (no copy of the weights before protobuf's own)
    return parseGraphOnnx(file.bytes(), path, known);
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
