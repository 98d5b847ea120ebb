#include "io/onnx_export.h"
#include "ir/element_types.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "base/errors.h"
#include "base/files.h"
#include "io/onnx_common.h"
#include "base/errors.h"
#include "ir/formula.h"
#include "ir/fused_program.h"
#include "ir/verifier.h"

namespace adj {

namespace {

using namespace onnx_io;
using Ints = std::vector<std::int64_t>;

/// ONNX's element type for ours.
int onnxElementType(DType t) { return onnxDataType(t); }

void setTensor(onnx::TensorProto& t, const Tensor& value) {
    const Tensor c = value.contiguous();
    t.set_data_type(onnxElementType(c.dtype()));
    for (auto d : c.shape()) t.add_dims(d);
    t.set_raw_data(std::string(reinterpret_cast<const char*>(c.bytes()), std::size_t(c.numel()) * dtypeSize(c.dtype())));
}

class Exporter {
public:
    explicit Exporter(const Graph& g) : g_(g) {}

    onnx::ModelProto run() {
        model_.set_ir_version(kExportIrVersion);
        model_.set_producer_name("adjoint");
        model_.set_producer_version("0.1.0");
        auto* opset = model_.add_opset_import();
        opset->set_domain("");
        opset->set_version(kExportOpset);
        gp_ = model_.mutable_graph();
        gp_->set_name(g_.name.empty() ? std::string("adjoint") : g_.name);
        if (!g_.description.empty()) model_.set_doc_string(g_.description);

        nameValues();
        for (NodeId id : g_.topoOrder()) exportNode(g_.node(id));
        exportOutputs();
        if (usesCustom_) {
            auto* custom = model_.add_opset_import();
            custom->set_domain(kAdjointDomain);
            custom->set_version(kAdjointDomainVersion);
        }
        return std::move(model_);
    }

private:
    // ---- names ----

    std::string fresh(const std::string& stem) {
        std::string n = stem;
        for (int i = 1; names_.count(n); ++i) n = stem + "_" + std::to_string(i);
        names_.insert(n);
        return n;
    }

    std::string freshNode(const std::string& stem) {
        std::string n = stem;
        for (int i = 1; nodeNames_.count(n); ++i) n = stem + "_" + std::to_string(i);
        nodeNames_.insert(n);
        return n;
    }

    /// ONNX names of every value and output. Inputs and parameters keep their names (they are
    /// what a caller binds); other values keep theirs unless a graph output of another value has
    /// that name. An output named like an input or parameter of another value (ONNX has one
    /// namespace) is renamed, and the metadata kOutputNameKey + new name keeps the original.
    void nameValues() {
        for (NodeId id : g_.topoOrder()) {
            const Node& n = g_.node(id);
            if (n.op != Op::Input && n.op != Op::Parameter) continue;
            if (!names_.insert(n.name).second) throw GraphError("two inputs or parameters are named '" + n.name + "'");
            valueNames_[{id, 0}] = n.name;
        }
        std::map<std::string, ValueRef> outputs;
        for (const auto& o : g_.outputs()) {
            if (outputNames_.count(o.name)) throw GraphError("two graph outputs are named '" + o.name + "'");
            auto it = valueNames_.find(o.value);
            if (names_.count(o.name) && !(it != valueNames_.end() && it->second == o.name)) {
                const std::string renamed = fresh(o.name + "_output");
                auto* meta = model_.add_metadata_props();
                meta->set_key(kOutputNameKey + renamed);
                meta->set_value(o.name);
                outputNames_[o.name] = renamed;
                continue;
            }
            outputNames_[o.name] = o.name;
            outputs.emplace(o.name, o.value);
            names_.insert(o.name);
        }
        for (NodeId id : g_.topoOrder()) {
            const Node& n = g_.node(id);
            if (n.op == Op::Input || n.op == Op::Parameter) continue;
            for (int p = 0; p < n.numOutputs(); ++p) {
                const ValueRef v{id, p};
                const std::string natural = g_.valueName(v);
                auto it = outputs.find(natural);
                if (it != outputs.end() && it->second == v) valueNames_[v] = natural;
                else valueNames_[v] = fresh(natural);
            }
        }
    }

    const std::string& name(ValueRef v) const { return valueNames_.at(v); }

    // ---- building ----

    onnx::NodeProto* add(const std::string& type, const std::vector<std::string>& ins, const std::vector<std::string>& outs, const std::string& nodeStem) {
        auto* n = gp_->add_node();
        n->set_op_type(type);
        n->set_name(freshNode(nodeStem));
        for (const auto& i : ins) n->add_input(i);
        for (const auto& o : outs) n->add_output(o);
        return n;
    }

    static void attr(onnx::NodeProto* n, const std::string& name, std::int64_t v) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(v);
    }
    static void attr(onnx::NodeProto* n, const std::string& name, double v) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::FLOAT);
        a->set_f(float(v));
    }
    static void attr(onnx::NodeProto* n, const std::string& name, const Ints& v) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INTS);
        for (auto x : v) a->add_ints(x);
    }

    /// A Constant node holding int64 values (1-D, or a scalar when `scalar`).
    std::string constInts(const std::string& stem, const Ints& values, bool scalar = false) {
        const std::string out = fresh(stem);
        auto* n = add("Constant", {}, {out}, stem);
        auto* a = n->add_attribute();
        a->set_name("value");
        a->set_type(onnx::AttributeProto::TENSOR);
        auto* t = a->mutable_t();
        t->set_data_type(onnx::TensorProto::INT64);
        if (!scalar) t->add_dims(std::int64_t(values.size()));
        for (auto v : values) t->add_int64_data(v);
        return out;
    }

    std::string constFloat(const std::string& stem, const Tensor& value) {
        const std::string out = fresh(stem);
        auto* n = add("Constant", {}, {out}, stem);
        auto* a = n->add_attribute();
        a->set_name("value");
        a->set_type(onnx::AttributeProto::TENSOR);
        setTensor(*a->mutable_t(), value);
        return out;
    }

    std::string constScalar(const std::string& stem, float v) { return constFloat(stem, Tensor::scalar(v)); }

    // ---- nodes ----

    std::vector<std::string> inputNames(const Node& n) const {
        std::vector<std::string> r;
        for (const auto& v : n.inputs) r.push_back(name(v));
        return r;
    }

    const Shape& shapeOf(ValueRef v) const { return g_.type(v).shape; }

    void custom(const Node& n) {
        usesCustom_ = true;
        auto* o = add(std::string(opName(n.op)), inputNames(n), {name({n.id, 0})}, n.name);
        o->set_domain(kAdjointDomain);
        for (const auto& [key, value] : n.attrs.map()) {
            auto* a = o->add_attribute();
            a->set_name(key);
            switch (attrValueType(value)) {
                case AttrType::Int: a->set_type(onnx::AttributeProto::INT); a->set_i(std::get<std::int64_t>(value)); break;
                case AttrType::Float: a->set_type(onnx::AttributeProto::FLOAT); a->set_f(float(std::get<double>(value))); break;
                case AttrType::String: a->set_type(onnx::AttributeProto::STRING); a->set_s(std::get<std::string>(value)); break;
                case AttrType::Ints:
                    a->set_type(onnx::AttributeProto::INTS);
                    for (auto x : std::get<std::vector<std::int64_t>>(value)) a->add_ints(x);
                    break;
                case AttrType::Floats:
                    a->set_type(onnx::AttributeProto::FLOATS);
                    for (auto x : std::get<std::vector<double>>(value)) a->add_floats(float(x));
                    break;
            }
        }
    }

    void reduce(const Node& n, const std::string& type, bool axesAsInput) {
        const std::string out = name({n.id, 0});
        std::vector<std::string> ins{name(n.inputs[0])};
        if (n.attrs.has("axes") && n.attrs.getInts(n.op, "axes").empty()) {  // reduces nothing
            add("Identity", ins, {out}, n.name);
            return;
        }
        onnx::NodeProto* o = nullptr;
        if (n.attrs.has("axes") && axesAsInput) {
            ins.push_back(constInts(n.name + "/axes", n.attrs.getInts(n.op, "axes")));
            o = add(type, ins, {out}, n.name);
        } else {
            o = add(type, ins, {out}, n.name);
            if (n.attrs.has("axes")) attr(o, "axes", n.attrs.getInts(n.op, "axes"));
        }
        attr(o, "keepdims", n.attrs.getInt(n.op, "keepdims"));
    }

    void batchNormTraining(const Node& n) {
        // y = (x - mean) / sqrt(var + eps) * scale + bias, batch statistics over every axis but 1
        // (biased variance), as the CPU kernel computes them.
        const std::string& s = n.name;
        const std::string x = name(n.inputs[0]);
        const auto rank = std::int64_t(shapeOf(n.inputs[0]).size());
        Ints axes{0};
        for (std::int64_t a = 2; a < rank; ++a) axes.push_back(a);
        Ints channelShape(std::size_t(rank), 1);
        channelShape[1] = -1;
        auto mean = [&](const std::string& in, const std::string& stem) {
            const std::string out = fresh(s + stem);
            auto* o = add("ReduceMean", {in}, {out}, s + stem);
            attr(o, "axes", axes);
            attr(o, "keepdims", std::int64_t(1));
            return out;
        };
        auto binary = [&](const std::string& type, const std::string& a, const std::string& b, const std::string& stem, const std::string& out = {}) {
            const std::string o = out.empty() ? fresh(s + stem) : out;
            add(type, {a, b}, {o}, s + stem);
            return o;
        };
        auto channel = [&](ValueRef v, const std::string& stem) {
            const std::string o = fresh(s + stem);
            add("Reshape", {name(v), constInts(s + stem + "_shape", channelShape)}, {o}, s + stem);
            return o;
        };
        const std::string m = mean(x, "/mean");
        const std::string d = binary("Sub", x, m, "/centered");
        const std::string var = mean(binary("Mul", d, d, "/squared"), "/var");
        const std::string den = fresh(s + "/std");
        add("Sqrt", {binary("Add", var, constScalar(s + "/epsilon", float(n.attrs.getFloat(n.op, "epsilon"))), "/var_eps")}, {den}, s + "/std");
        const std::string normed = binary("Div", d, den, "/normalized");
        const std::string scaled = binary("Mul", normed, channel(n.inputs[1], "/scale"), "/scaled");
        binary("Add", scaled, channel(n.inputs[2], "/bias"), "", name({n.id, 0}));
    }

    void convGradWeight(const Node& n) {
        if (n.attrs.getInt(n.op, "group") != 1) {
            custom(n);
            return;
        }
        // dW[co, ci, i, j] = sum_{n, oh, ow} g[n, co, oh, ow] x_pad[n, ci, oh*s + i*d, ow*s + j*d]:
        // a convolution of x^T (channels as batch) with g^T as the kernel, strides and dilations
        // swapped, cropped to the kernel size, transposed back.
        const std::string& s = n.name;
        const Ints strides = n.attrs.getInts(n.op, "strides"), dil = n.attrs.getInts(n.op, "dilations"), pads = n.attrs.getInts(n.op, "pads");
        const Ints ws = n.attrs.getInts(n.op, "weight_shape");
        const Shape& xs = shapeOf(n.inputs[0]);
        const Shape& gs = shapeOf(n.inputs[1]);
        auto transposed = [&](const std::string& in, const std::string& stem) {
            const std::string o = fresh(s + stem);
            attr(add("Transpose", {in}, {o}, s + stem), "perm", Ints{1, 0, 2, 3});
            return o;
        };
        const std::string xt = transposed(name(n.inputs[0]), "/x_t"), gt = transposed(name(n.inputs[1]), "/g_t");
        std::string c = fresh(s + "/conv");
        auto* conv = add("Conv", {xt, gt}, {c}, s + "/conv");
        attr(conv, "kernel_shape", Ints{gs[2], gs[3]});
        attr(conv, "strides", dil);
        attr(conv, "dilations", strides);
        attr(conv, "pads", pads);
        Ints full(2);
        for (std::size_t a = 0; a < 2; ++a) full[a] = (xs[2 + a] + pads[a] + pads[a + 2] - strides[a] * (gs[2 + a] - 1) - 1) / dil[a] + 1;
        if (full[0] != ws[2] || full[1] != ws[3]) {
            const std::string cropped = fresh(s + "/crop");
            add("Slice", {c, constInts(s + "/crop_starts", {0, 0}), constInts(s + "/crop_ends", {ws[2], ws[3]}), constInts(s + "/crop_axes", {2, 3})}, {cropped},
                s + "/crop");
            c = cropped;
        }
        attr(add("Transpose", {c}, {name({n.id, 0})}, s), "perm", Ints{1, 0, 2, 3});
    }

    void convGradInput(const Node& n) {
        const Ints strides = n.attrs.getInts(n.op, "strides"), dil = n.attrs.getInts(n.op, "dilations"), pads = n.attrs.getInts(n.op, "pads");
        const Ints xs = n.attrs.getInts(n.op, "input_shape");
        const Shape& gs = shapeOf(n.inputs[0]);
        const Shape& ws = shapeOf(n.inputs[1]);
        Ints outPad(2);
        for (std::size_t a = 0; a < 2; ++a) {
            const std::int64_t base = strides[a] * (gs[2 + a] - 1) + (ws[2 + a] - 1) * dil[a] + 1 - pads[a] - pads[a + 2];
            outPad[a] = xs[2 + a] - base;
            if (outPad[a] < 0 || outPad[a] >= std::max(strides[a], dil[a]))
                throw GraphError("node '" + n.name + "' (conv2d_grad_input): input_shape " + attrValueToString(xs) + " cannot be written as a ConvTranspose");
        }
        auto* o = add("ConvTranspose", inputNames(n), {name({n.id, 0})}, n.name);
        attr(o, "kernel_shape", Ints{ws[2], ws[3]});
        attr(o, "strides", strides);
        attr(o, "dilations", dil);
        attr(o, "pads", pads);
        attr(o, "group", n.attrs.getInt(n.op, "group"));
        if (outPad[0] || outPad[1]) attr(o, "output_padding", outPad);
    }

    /// One elementwise op of the table on ONNX values `ins`, writing `out`: the ONNX op of its table
    /// entry with its attributes, or its decomposition formula where opset 17 has no such op.
    void elementwise(Op op, const Attributes& attrs, const std::vector<std::string>& ins, const std::string& out, const std::string& s) {
        if (op == Op::Where) {
            // our condition is a float (nonzero: true); Cast to BOOL says the same
            const std::string cond = fresh(s + "/cond");
            attr(add("Cast", {ins[0]}, {cond}, s + "/cond"), "to", std::int64_t(onnx::TensorProto::BOOL));
            add("Where", {cond, ins[1], ins[2]}, {out}, s);
            return;
        }
        const OpInfo& info = opInfo(op);
        if (op == Op::Greater || op == Op::Equal) {  // a boolean result, cast to our 0/1 floats
            const std::string b = fresh(s + "/bool");
            add(std::string(info.onnx), ins, {b}, s + "/bool");
            attr(add("Cast", {b}, {out}, s), "to", std::int64_t(onnx::TensorProto::FLOAT));
            return;
        }
        if (!info.onnx.empty()) {
            auto* node = add(std::string(info.onnx), ins, {out}, s);
            for (const auto& spec : info.attrs)  // those set; ONNX's defaults are the table's
                if (attrs.has(spec.name)) attr(node, spec.name, attrs.getFloat(op, spec.name));
            return;
        }
        decomposed(op, attrs, ins, out, s);
    }

    /// An elementwise op written through its decomposition formula (ops.def): the formula is built
    /// in a scratch graph over inputs of the op's arity, then each of its nodes is written.
    void decomposed(Op op, const Attributes& attrs, const std::vector<std::string>& ins, const std::string& out, const std::string& s) {
        const Formula& f = opFormula(op, FormulaColumn::Decomposition);
        if (f.empty()) throw GraphError("node '" + s + "': " + std::string(opName(op)) + " has no ONNX op and no decomposition");
        Graph scratch;
        GraphBuilder b(scratch);
        std::map<std::string, ValueRef> names;
        std::map<NodeId, std::string> onnxName;
        for (std::size_t k = 0; k < ins.size(); ++k) {
            const NodeId in = scratch.addInput(formulaInputName(k), {});
            names[formulaInputName(k)] = {in, 0};
            onnxName[in] = ins[k];
        }
        Node self;
        self.op = op;
        self.name = s;
        self.attrs = attrs;
        const ValueRef y = buildFormula(b, f, names, &self, {"y"}).at("y");
        for (NodeId id : scratch.topoOrder()) {
            const Node& n = scratch.node(id);
            if (n.op == Op::Input) continue;
            if (n.op == Op::Constant) {
                onnxName[id] = constScalar(s + "/c", n.value.toVector().at(0));
                continue;
            }
            std::vector<std::string> args;
            for (const auto& v : n.inputs) args.push_back(onnxName.at(v.node));
            const bool last = id == y.node;
            const std::string stem = s + "/" + std::string(opName(n.op));
            onnxName[id] = last ? out : fresh(stem);
            elementwise(n.op, n.attrs, args, onnxName[id], last ? s : stem);
        }
    }

    /// A fusion group, written as its original ops (ir/fused_program.h): one ONNX node (or a few)
    /// per instruction; the result is broadcast to the node's output shape when the last
    /// instruction does not reach it.
    void fused(const Node& n) {
        const FusedProgram prog = parseFusedProgram(n.attrs.getString(n.op, "program"), int(n.inputs.size()));
        if (prog.instrs.empty()) throw GraphError("node '" + n.name + "': empty fused program");
        std::vector<std::string> regs;
        std::vector<Shape> regShapes;
        const std::string out = name({n.id, 0});
        const Shape& outShape = shapeOf({n.id, 0});
        for (std::size_t k = 0; k < prog.instrs.size(); ++k) {
            const FusedInstr& in = prog.instrs[k];
            std::vector<std::string> args;
            Shape shape;
            for (std::size_t a = 0; a < in.args.size(); ++a) {
                const FusedOperand& o = in.args[a];
                const std::string& arg = o.isInput ? name(n.inputs[std::size_t(o.index)]) : regs.at(std::size_t(o.index));
                const Shape& s = o.isInput ? shapeOf(n.inputs[std::size_t(o.index)]) : regShapes.at(std::size_t(o.index));
                args.push_back(arg);
                Shape next;
                if (a == 0) next = s;
                else if (!broadcastShapes(shape, s, next)) throw GraphError("node '" + n.name + "': fused program operands do not broadcast");
                shape = next;
            }
            const bool last = k + 1 == prog.instrs.size();
            const std::string stem = n.name + "/" + std::string(opName(in.op)) + "_" + std::to_string(k);
            const std::string reg = last && shape == outShape ? out : fresh(stem);
            elementwise(in.op, ewAttributes(in.op, in.params), args, reg, last && shape == outShape ? n.name : stem);
            regs.push_back(reg);
            regShapes.push_back(shape);
        }
        if (regShapes.back() != outShape)
            add("Expand", {regs.back(), constInts(n.name + "/shape", Ints(outShape.begin(), outShape.end()))}, {out}, n.name);
    }

    void exportNode(const Node& n) {
        const std::string out = n.numOutputs() == 1 ? name({n.id, 0}) : std::string();
        auto simple = [&](const std::string& type) { return add(type, inputNames(n), {out}, n.name); };
        switch (n.op) {
            case Op::Input: {
                auto* vi = gp_->add_input();
                vi->set_name(out);
                auto* tt = vi->mutable_type()->mutable_tensor_type();
                tt->set_elem_type(onnxElementType(n.declaredDType));
                auto* shape = tt->mutable_shape();
                bool symbolic = false;
                std::string declared;
                for (std::size_t d = 0; d < n.declaredShape.size(); ++d) {
                    auto* dim = shape->add_dim();
                    if (d < n.dimNames.size() && !n.dimNames[d].empty()) {
                        dim->set_dim_param(n.dimNames[d]);
                        symbolic = true;
                    } else {
                        dim->set_dim_value(n.declaredShape[d]);
                    }
                    declared += (d ? "," : "") + std::to_string(n.declaredShape[d]);
                }
                if (symbolic) {  // the declared sizes, for reading the file back exactly
                    auto* meta = model_.add_metadata_props();
                    meta->set_key(kDeclaredShapeKey + n.name);
                    meta->set_value(declared);
                }
                return;
            }
            case Op::Parameter: {
                if (!n.value.defined()) throw GraphError("parameter '" + n.name + "' has no value");
                auto* t = gp_->add_initializer();
                setTensor(*t, n.value);
                t->set_name(out);
                return;
            }
            case Op::Constant: {
                auto* c = add("Constant", {}, {out}, n.name);
                auto* a = c->add_attribute();
                a->set_name("value");
                a->set_type(onnx::AttributeProto::TENSOR);
                setTensor(*a->mutable_t(), n.value);
                return;
            }
#include "ir/op_elementwise_cases.inc"
                elementwise(n.op, n.attrs, inputNames(n), out, n.name);
                return;
            case Op::MatMul: simple("MatMul"); return;
            case Op::Gemm: {
                auto* o = simple("Gemm");
                if (n.attrs.has("alpha")) attr(o, "alpha", n.attrs.getFloat(n.op, "alpha"));
                if (n.attrs.has("beta")) attr(o, "beta", n.attrs.getFloat(n.op, "beta"));
                if (n.attrs.has("transA")) attr(o, "transA", n.attrs.getInt(n.op, "transA"));
                if (n.attrs.has("transB")) attr(o, "transB", n.attrs.getInt(n.op, "transB"));
                return;
            }
            case Op::Sum: reduce(n, "ReduceSum", true); return;
            case Op::Mean: reduce(n, "ReduceMean", false); return;
            case Op::Max: reduce(n, "ReduceMax", false); return;
            case Op::Softmax: attr(simple("Softmax"), "axis", n.attrs.getInt(n.op, "axis")); return;
            case Op::LogSoftmax: attr(simple("LogSoftmax"), "axis", n.attrs.getInt(n.op, "axis")); return;
            case Op::Reshape:
                add("Reshape", {name(n.inputs[0]), constInts(n.name + "/shape", n.attrs.getInts(n.op, "shape"))}, {out}, n.name);
                return;
            case Op::Transpose: {
                auto* o = simple("Transpose");
                if (n.attrs.has("perm")) attr(o, "perm", n.attrs.getInts(n.op, "perm"));
                return;
            }
            case Op::Flatten: attr(simple("Flatten"), "axis", n.attrs.getInt(n.op, "axis")); return;
            case Op::Squeeze:
                if (!n.attrs.has("axes")) simple("Squeeze");
                else if (n.attrs.getInts(n.op, "axes").empty()) simple("Identity");
                else add("Squeeze", {name(n.inputs[0]), constInts(n.name + "/axes", n.attrs.getInts(n.op, "axes"))}, {out}, n.name);
                return;
            case Op::Unsqueeze:
                add("Unsqueeze", {name(n.inputs[0]), constInts(n.name + "/axes", n.attrs.getInts(n.op, "axes"))}, {out}, n.name);
                return;
            case Op::Expand:
                add("Expand", {name(n.inputs[0]), constInts(n.name + "/shape", n.attrs.getInts(n.op, "shape"))}, {out}, n.name);
                return;
            case Op::Slice: {
                const Ints starts = n.attrs.getInts(n.op, "starts");
                Ints axes;
                if (n.attrs.has("axes")) axes = n.attrs.getInts(n.op, "axes");
                else
                    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(std::int64_t(i));
                std::vector<std::string> ins{name(n.inputs[0]), constInts(n.name + "/starts", starts), constInts(n.name + "/ends", n.attrs.getInts(n.op, "ends")),
                                             constInts(n.name + "/axes", axes)};
                if (n.attrs.has("steps")) ins.push_back(constInts(n.name + "/steps", n.attrs.getInts(n.op, "steps")));
                add("Slice", ins, {out}, n.name);
                return;
            }
            case Op::Concat: attr(simple("Concat"), "axis", n.attrs.getInt(n.op, "axis")); return;
            case Op::Split: {
                std::vector<std::string> outs;
                for (int p = 0; p < n.numOutputs(); ++p) outs.push_back(name({n.id, p}));
                auto* o = add("Split", {name(n.inputs[0]), constInts(n.name + "/split", n.attrs.getInts(n.op, "sizes"))}, outs, n.name);
                attr(o, "axis", n.attrs.getInt(n.op, "axis"));
                return;
            }
            case Op::Pad:
                add("Pad",
                    {name(n.inputs[0]), constInts(n.name + "/pads", n.attrs.getInts(n.op, "pads")),
                     constScalar(n.name + "/value", float(n.attrs.getFloat(n.op, "value")))},
                    {out}, n.name);
                return;
            case Op::Conv2d: {
                auto* o = simple("Conv");
                const Shape& ws = shapeOf(n.inputs[1]);
                attr(o, "kernel_shape", Ints{ws[2], ws[3]});
                attr(o, "strides", n.attrs.getInts(n.op, "strides"));
                attr(o, "pads", n.attrs.getInts(n.op, "pads"));
                attr(o, "dilations", n.attrs.getInts(n.op, "dilations"));
                attr(o, "group", n.attrs.getInt(n.op, "group"));
                return;
            }
            case Op::BatchNorm:
                if (n.attrs.getInt(n.op, "training") != 0) batchNormTraining(n);
                else attr(simple("BatchNormalization"), "epsilon", n.attrs.getFloat(n.op, "epsilon"));
                return;
            case Op::LayerNorm: {
                std::vector<std::string> ins = inputNames(n);
                if (ins.size() == 1) {  // ONNX needs the scale
                    const Shape& xs = shapeOf(n.inputs[0]);
                    std::int64_t axis = n.attrs.getInt(n.op, "axis");
                    normalizeAxis(axis, std::int64_t(xs.size()));
                    ins.push_back(constFloat(n.name + "/scale", Tensor::full(Shape(xs.begin() + axis, xs.end()), 1.f)));
                }
                auto* o = add("LayerNormalization", ins, {out}, n.name);
                attr(o, "axis", n.attrs.getInt(n.op, "axis"));
                attr(o, "epsilon", n.attrs.getFloat(n.op, "epsilon"));
                return;
            }
            case Op::MaxPool: case Op::AvgPool: {
                auto* o = simple(n.op == Op::MaxPool ? "MaxPool" : "AveragePool");
                attr(o, "kernel_shape", n.attrs.getInts(n.op, "kernel"));
                if (n.attrs.has("strides")) attr(o, "strides", n.attrs.getInts(n.op, "strides"));
                attr(o, "pads", n.attrs.getInts(n.op, "pads"));
                if (n.op == Op::AvgPool) attr(o, "count_include_pad", n.attrs.getInt(n.op, "count_include_pad"));
                return;
            }
            case Op::GlobalAvgPool: simple("GlobalAveragePool"); return;
            case Op::Fused: fused(n); return;
            case Op::Conv2dGradInput: convGradInput(n); return;
            case Op::Conv2dGradWeight: convGradWeight(n); return;
            case Op::MaxPoolGrad: case Op::MaxPoolSelect: case Op::AvgPoolGrad: case Op::GatherGrad: case Op::GatherElementsGrad: custom(n); return;
            case Op::GatherElements: attr(simple("GatherElements"), "axis", n.attrs.getInt(n.op, "axis")); return;
            case Op::Gather: attr(simple("Gather"), "axis", n.attrs.getInt(n.op, "axis")); return;
            case Op::Cast: {
                const std::string to = n.attrs.getString(n.op, "to");
                attr(simple("Cast"), "to", std::int64_t(onnxDataType(castTarget(n))));
                return;
            }
            case Op::ArgMax: case Op::ArgMin: {
                auto* o = simple(n.op == Op::ArgMax ? "ArgMax" : "ArgMin");
                attr(o, "axis", n.attrs.getInt(n.op, "axis"));
                attr(o, "keepdims", n.attrs.getInt(n.op, "keepdims"));
                if (n.attrs.getInt(n.op, "select_last_index")) attr(o, "select_last_index", std::int64_t(1));
                return;
            }
        }
        throw GraphError("node '" + n.name + "': op " + std::string(opName(n.op)) + " has no ONNX mapping");
    }

    /// Output dims: the inferred sizes, except those that change when the symbolic input dims
    /// change (left without value or name).
    std::vector<Shape> probeOutputShapes() const {
        Graph probe = g_;
        bool symbolic = false;
        for (NodeId id : probe.inputNodes()) {
            Node& n = probe.node(id);
            for (std::size_t d = 0; d < n.declaredShape.size(); ++d)
                if (d < n.dimNames.size() && !n.dimNames[d].empty()) {
                    n.declaredShape[d] = n.declaredShape[d] == 7 ? 11 : 7;
                    symbolic = true;
                }
        }
        std::vector<Shape> r;
        if (!symbolic) return r;
        if (!verifyGraph(probe).empty()) return r;
        for (const auto& o : probe.outputs()) r.push_back(probe.type(o.value).shape);
        return r;
    }

    void exportOutputs() {
        const std::vector<Shape> probed = probeOutputShapes();
        bool anySymbolic = false;
        for (NodeId id : g_.inputNodes())
            for (const auto& d : g_.node(id).dimNames) anySymbolic = anySymbolic || !d.empty();
        for (std::size_t i = 0; i < g_.outputs().size(); ++i) {
            const auto& o = g_.outputs()[i];
            const std::string& outName = outputNames_.at(o.name);
            if (name(o.value) != outName) add("Identity", {name(o.value)}, {outName}, outName);
            auto* vi = gp_->add_output();
            vi->set_name(outName);
            auto* tt = vi->mutable_type()->mutable_tensor_type();
            tt->set_elem_type(onnxElementType(g_.type(o.value).dtype));
            const Shape& s = shapeOf(o.value);
            auto* shape = tt->mutable_shape();
            for (std::size_t d = 0; d < s.size(); ++d) {
                auto* dim = shape->add_dim();
                const bool varies = anySymbolic && (probed.empty() || probed[i].size() != s.size() || probed[i][d] != s[d]);
                if (!varies) dim->set_dim_value(s[d]);
            }
        }
    }

    const Graph& g_;
    onnx::ModelProto model_;
    onnx::GraphProto* gp_ = nullptr;
    std::set<std::string> names_, nodeNames_;
    std::map<ValueRef, std::string> valueNames_;
    std::map<std::string, std::string> outputNames_;  // our output name -> ONNX name
    bool usesCustom_ = false;
};

std::string checkModel(const onnx::ModelProto& model, bool strict) {
    try {
        onnx::checker::check_model(model);
        if (strict) {
            onnx::ModelProto copy = model;
            onnx::ShapeInferenceOptions options(true, 1, false);
            onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(), options);
        }
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

}  // namespace

std::string graphToOnnx(const Graph& graph) {
    Graph g = graph;
    const auto problems = verifyGraph(g);
    if (!problems.empty()) throw GraphError(problems.front().message);
    onnx::ModelProto model = Exporter(g).run();
    if (std::string why = checkModel(model, false); !why.empty()) throw Error("the exported model does not pass the ONNX checker: " + why);
    std::string bytes;
    if (!model.SerializeToString(&bytes)) throw Error("the model cannot be serialized (it may be 2 GiB or larger)");
    return bytes;
}

void saveGraphOnnx(const Graph& graph, const std::string& path) {
    std::string bytes;
    try {
        bytes = graphToOnnx(graph);
    } catch (const Error& e) {
        throw Error(path + ": " + e.what());
    }
    writeFileAtomically(path, bytes);
}

std::string onnxCheckerProblems(const std::string& bytes) {
    onnx::ModelProto model;
    try {
        parseModel(bytes, "model", model);
    } catch (const Error& e) {
        return e.what();
    }
    return checkModel(model, true);
}

}  // namespace adj
