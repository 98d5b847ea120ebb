#pragma once
// The ONNX importer's internals, shared by onnx_import.cpp (the import, entry points),
// onnx_import_checks.cpp (model-level checks), onnx_import_values.cpp (what handlers use: values,
// attributes, emitting nodes) and onnx_import_ops.cpp (one handler per ONNX op). Not a public
// header: see onnx_import.h.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/onnx_common.h"
#include "io/onnx_import.h"
#include "ir/graph.h"

namespace adj::onnx_io {

/// Integer tensors that the importer evaluates (shapes, axes, indices) hold at most this many
/// elements; larger integer initializers are fine as long as nothing reads them.
inline constexpr std::int64_t kMaxIntElements = std::int64_t(1) << 16;

inline bool isDefaultDomain(const std::string& d) { return d.empty() || d == "ai.onnx"; }
/// Shape errors from inference start with "node '<our name>' (<op>): "; the importer names the
/// ONNX node instead, so this drops that prefix.
std::string stripNodePrefix(const std::string& msg);
/// An ONNX attribute type's name ("INTS"), for messages.
std::string attrTypeText(int type);
/// What a node reads: its inputs and the outer values its subgraphs (If branches) use.
std::set<std::string> nodeReads(const onnx::NodeProto& n);

/// An integer evaluated at three bindings of the dynamic dimensions: [0] the default binding (every
/// dynamic dimension 1; the graph is built at this one), [1] and [2] two probe bindings (distinct
/// primes per dimension name). A value that agrees at all three is taken for a constant; two values
/// that agree at all three are taken for equal (polynomial identity testing at three points).
using Sym = std::array<std::int64_t, 3>;
inline Sym symConst(std::int64_t v) { return {v, v, v}; }
inline bool symIsConst(const Sym& s) { return s[0] == s[1] && s[1] == s[2]; }

/// An integer or boolean tensor evaluated while importing (shapes, axes, indices). Its own shape
/// is always concrete.
struct IntTensor {
    Shape shape;
    std::vector<Sym> data;  // row-major
    bool allConst() const;
    /// The values at the default binding.
    std::vector<std::int64_t> values() const;
};

/// What an ONNX value name stands for.
struct Value {
    // Float: a float32 graph value. Ints: an integer tensor evaluated while importing (shapes, axes).
    // Indices: a graph value of any other type (int64 token ids, uint8 pixels, f64 or f16 values:
    // ir/element_types.h) known only when the graph runs: data movement, comparisons and the ops
    // that compute in its type take it as it is (integerInputs), Gather as its indices; any other
    // op reads an integer one as float values through one cast node (asFloat; exact up to 2^24,
    // an error beyond) and refuses a float one (f64, f16, bf16 are never narrowed silently).
    enum class Kind { Float, Ints, Indices, PendingConstant, Error };
    Kind kind = Kind::Float;
    ValueRef ref;             // Float, Indices: the graph value
    ValueRef asFloat;         // Indices: its to_float node, once a float op has read it
    bool isBool = false;      // Float holding truth values (ONNX bool)
    bool normalized = true;   // truth values are 0/1 (otherwise: nonzero means true)
    IntTensor ints;           // Ints
    Tensor constant;          // PendingConstant: a float constant not yet in the graph
    std::string error;        // Error: why the value cannot be used (unsupported type, ...)
};

class Importer {
public:
    Importer(const onnx::ModelProto& model, std::string where, const KnownInputs& known = {});
    Graph run();

    using Handler = std::function<void(Importer&)>;
    /// ONNX op type (default domain) -> handler. Defined in onnx_import_ops.cpp.
    static const std::map<std::string, Handler>& handlers();

    // ---- the node being converted (handlers read these) ----
    const onnx::NodeProto& node() const { return *cur_; }
    std::int64_t opset() const { return opset_; }
    [[noreturn]] void fail(const std::string& message) const;
    int numInputs() const { return cur_->input_size(); }
    bool has(int i) const { return i < cur_->input_size() && !cur_->input(i).empty(); }
    const std::string& inName(int i) const;
    const std::string& out(int i = 0) const;
    /// True when output i exists and something reads it (a node or a graph output).
    bool outputUsed(int i) const;
    void requireUnused(int i, const std::string& what) const;

    const Value& value(int i) const;
    /// The value of an ONNX name (an If branch's output); fails when it is not defined.
    Value valueNamed(const std::string& name) const;
    bool isInts(int i) const { return value(i).kind == Value::Kind::Ints; }
    bool isIndices(int i) const { return value(i).kind == Value::Kind::Indices; }
    /// Input i as a graph value of any type: fin's for a float, the value itself for indices.
    ValueRef graphValue(int i);
    /// When some inputs are Indices values (of a type other than f32) and every other given input
    /// is one too or an integer constant: the first one's element type, so that the op computes
    /// in it where it can (ir/element_types.h, computesIn). nullopt otherwise (the op computes in
    /// float32).
    std::optional<DType> integerInputs() const;
    /// Input i as a graph value of `type`: an Indices value (cast when its type differs) or an
    /// integer constant made a Constant node of that type.
    ValueRef intIn(int i, DType type);
    /// A constant of `type` holding whole numbers; fails naming `what` when one does not fit.
    Tensor typedConstant(const Shape& shape, const std::vector<std::int64_t>& values, DType type, const std::string& what) const;
    /// intIn when `type` is given, else fin.
    ValueRef numIn(int i, std::optional<DType> type) { return type ? intIn(i, *type) : fin(i); }
    /// Input i as data to move (reshape, slice, concat...): an integer value as it is, else fin's.
    ValueRef dataIn(int i) { return isIndices(i) ? value(i).ref : fin(i); }
    /// Binds `name` to a graph value by its element type: an integer one as Indices, else Float.
    void bindData(const std::string& name, ValueRef r);
    /// The float view of the INT64 graph input `name`: its one to_float node (made on first use).
    ValueRef indicesAsFloat(const std::string& name);
    /// Input i as a float graph value: integer constants and pending float constants become
    /// Constant nodes; truth values are normalized to 0/1.
    ValueRef fin(int i);
    /// As fin, but a truth value may stay "nonzero means true" (for where's condition).
    ValueRef finRaw(int i);
    /// Input i as an evaluated integer tensor; `what` names it in the error when it is computed
    /// from float values.
    const IntTensor& iin(int i, const std::string& what);
    /// Input i's values, all constant (not depending on a dynamic dimension).
    std::vector<std::int64_t> constInts(int i, const std::string& what);
    /// The value of a graph input given before importing (KnownInputs), or null.
    const Tensor* knownInput(ValueRef v) const;
    /// The element type the file gives `name` (a graph input, an initializer or a value_info), if any.
    std::optional<int> declaredElementType(const std::string& name) const;
    /// A known float scalar: a constant, an initializer's value or an integer constant.
    double constScalar(int i, const std::string& what);

    // ---- attributes ----
    const onnx::AttributeProto* attr(const std::string& name) const;
    std::int64_t attrInt(const std::string& name, std::int64_t def) const;
    double attrFloat(const std::string& name, double def) const;
    std::optional<std::vector<std::int64_t>> attrInts(const std::string& name) const;
    std::string attrString(const std::string& name, const std::string& def) const;
    /// Axes from the attribute (before `inputSince`) or from input `index` (from that opset on).
    std::optional<std::vector<std::int64_t>> axesOf(int index, std::int64_t inputSince);

    // ---- building ----
    /// Adds a node, infers its types at the default and probe bindings; a shape error becomes a
    /// FormatError naming the ONNX node. `stem` is the wanted name (made unique).
    NodeId emitNode(Op op, std::vector<ValueRef> inputs, Attributes attrs, const std::string& stem);
    ValueRef emit(Op op, std::vector<ValueRef> inputs, Attributes attrs, const std::string& stem) { return {emitNode(op, std::move(inputs), std::move(attrs), stem), 0}; }
    ValueRef constantNode(const Tensor& t, const std::string& stem);
    Graph& graph() { return g_; }
    const Shape& shapeOf(ValueRef v) const { return g_.type(v).shape; }
    /// A float value's dimensions at the three bindings.
    std::vector<Sym> symShape(ValueRef v) const;
    /// Dimension `axis` of a float value, which must not depend on a dynamic dimension (the
    /// error names it as `what`).
    std::int64_t staticDim(ValueRef v, std::size_t axis, const std::string& what) const;
    /// A float value's shape, which must not depend on a dynamic dimension (`what` names the value).
    Shape staticShape(ValueRef v, const std::string& what) const;
    /// "batch" for a dimension that depends on dynamic dims, for messages.
    std::string dynamicNote() const;

    /// Converts the nodes of an If branch (its condition known while importing) in place.
    void inlineBranch(const onnx::GraphProto& branch);
    /// Puts the nodes made since `first` (sources aside) into the scope the ONNX node's name carries
    /// ("/layer1/layer1.0/conv1/Conv": group "layer1/layer1.0/conv1"; ir/group_tree.h).
    void scopeNodesSince(NodeId first, const onnx::NodeProto& n);

    void bindFloat(const std::string& name, ValueRef v, bool isBool = false);
    void bindInts(const std::string& name, IntTensor t);
    void bindIndices(const std::string& name, ValueRef v);
    void bindValue(const std::string& name, Value v);
    void bindPending(const std::string& name, Tensor t);

private:
    void checkOpsets();
    void checkStructure();
    void checkSupported();
    /// For a model older than kImportOpsetMin: every op it uses is defined as in kImportOpsetMin.
    void checkOldDefinitions();
    std::vector<int> topoOrder();
    void addInputs();
    void addInitializers();
    void addInitializer(const onnx::TensorProto& t);
    void convert(const onnx::NodeProto& n);
    void convertCustom(const onnx::NodeProto& n);
    void addOutputs();
    /// " (of node 'N', Op)" for the node that produces `value`, or "" for an input or initializer.
    std::string producerNote(const std::string& value) const;
    ValueRef materialize(const std::string& name, Value& v);
    /// A constant (float with integral values, or i64) as an integer tensor; `label` names it.
    IntTensor integersOf(const Tensor& t, const std::string& label) const;
    ValueRef normalizeBool(Value& v);
    std::string nodeLabel(const onnx::NodeProto& n) const;

    const onnx::ModelProto& model_;
    const onnx::GraphProto& gp_;
    std::string where_;
    std::int64_t opset_ = 0;
    Graph g_;
    std::unordered_map<std::string, Value> values_;
    std::set<std::string> used_;  // value names read by a node or a graph output
    std::map<std::string, std::array<std::int64_t, 2>> dimProbes_;
    std::map<ValueRef, std::array<Shape, 2>> probes_;
    const onnx::NodeProto* cur_ = nullptr;
    const KnownInputs& known_;
    std::map<std::string, IntTensor> knownInts_;  // integer views of known_, made on first use
};

}  // namespace adj::onnx_io
