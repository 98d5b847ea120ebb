#include "io/pytorch_export.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "base/errors.h"
#include "base/files.h"
#include "io/npz.h"
#include "io/pytorch_expression.h"
#include "ir/fused_program.h"

namespace adj {

namespace {

using Ints = std::vector<std::int64_t>;

[[noreturn]] void refuse(const Node& n, const std::string& what) {
    throw GraphError("node '" + n.name + "' (" + std::string(opName(n.op)) + "): " + what);
}

std::string pyFloat(double v) { return pythonFloatLiteral(v); }

std::string pyInts(const Ints& v, bool tuple = false) {
    std::string s = tuple ? "(" : "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    if (tuple && v.size() == 1) s += ",";
    return s + (tuple ? ")" : "]");
}

std::string shapeArgs(const Shape& s) {
    if (s.empty()) return "()";
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out;
}

std::string shapeWithNames(const Shape& s, const std::vector<std::string>& dimNames) {
    std::string out = "[";
    for (std::size_t i = 0; i < s.size(); ++i) {
        out += i ? ", " : "";
        out += i < dimNames.size() && !dimNames[i].empty() ? dimNames[i] : std::to_string(s[i]);
    }
    return out + "]";
}

/// A graph's text inside a comment: one line, whatever the name holds (a newline would end the
/// comment and start code).
std::string commentText(const std::string& s) {
    std::string out;
    for (unsigned char c : s) out += c < 0x20 || c == 0x7f ? ' ' : char(c);
    return out;
}

/// A graph's text inside a """docstring""": backslashes and quotes escaped, so that it ends where
/// the file ends it.
std::string docText(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\r' || (c < 0x20 && c != '\n') || c == 0x7f) out += ' ';
        else out += char(c);
    }
    return out;
}

std::string pythonDType(DType t) { return t == DType::I64 ? "int64" : "float32"; }

bool isPythonReserved(const std::string& s) {
    static const std::set<std::string> kReserved{
        // keywords
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
        "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or",
        "pass", "raise", "return", "try", "while", "with", "yield",
        // what the file itself names
        "self", "torch", "F", "np", "os", "Model", "load", "INPUTS", "OUTPUTS", "PARAMETERS", "isinstance", "float", "int",
        "range", "enumerate", "len", "list", "tuple", "super", "abs", "pow", "round", "max", "min", "sum", "slice",
        // nn.Module's own attributes (a parameter named so would hide them)
        "training", "forward", "to", "type", "half", "double", "cpu", "cuda", "train", "eval", "apply", "buffers",
        "children", "modules", "parameters", "state_dict", "load_state_dict", "zero_grad", "register_buffer",
        "register_parameter", "named_parameters", "named_buffers", "named_modules", "named_children", "requires_grad_",
        "add_module", "get_parameter", "get_buffer", "extra_repr", "dump_patches",
        // the functions of the elementwise ops whose names are Python's own (abs, pow, round)
        "abs_", "pow_", "round_"};
    return kReserved.count(s) != 0 || s.rfind("f_", 0) == 0 || s.rfind("_", 0) == 0 || opFromName(s).has_value();
}

/// A Python identifier for a graph name, unique among `taken` (which it joins).
std::string identifier(const std::string& name, std::set<std::string>& taken) {
    std::string s;
    for (char c : name) {
        const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        if (ok) s += c;
        else if (!s.empty() && s.back() != '_') s += '_';
    }
    while (!s.empty() && s.back() == '_') s.pop_back();
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) s = "v" + s;
    // names beginning f_ or _ stay reserved whatever follows them: those take a prefix
    while (isPythonReserved(s)) s = s[0] == '_' || s.rfind("f_", 0) == 0 ? "v" + s : s + "_";
    std::string candidate = s;
    for (int k = 2; taken.count(candidate); ++k) candidate = s + "_" + std::to_string(k);
    taken.insert(candidate);
    return candidate;
}

// Python helpers the written file defines when it uses them (ONNX conventions spelled out once).
const std::map<std::string, std::string>& helperTexts() {
    static const std::map<std::string, std::string> kHelpers{
        {"_reshape",
         "def _reshape(x, shape):\n"
         "    \"\"\"ONNX's Reshape: a 0 copies the input's dimension, -1 is inferred.\"\"\"\n"
         "    return x.reshape([x.shape[i] if d == 0 else d for i, d in enumerate(shape)])\n"},
        {"_flatten",
         "def _flatten(x, axis):\n"
         "    \"\"\"ONNX's Flatten: 2-D, the axes before `axis` times the rest.\"\"\"\n"
         "    if axis == 0:\n"
         "        return x.reshape(1, -1)\n"
         "    if axis == x.dim():\n"
         "        return x.reshape(-1, 1)\n"
         "    return torch.flatten(torch.flatten(x, axis), 0, axis - 1)\n"},
        {"_broadcast_to_all",
         "def _broadcast_to_all(x, *shapes):\n"
         "    \"\"\"x broadcast to its own shape and `shapes` (a fusion group's output has every input's).\"\"\"\n"
         "    return x.expand(torch.broadcast_shapes(x.shape, *shapes))\n"},
        {"_conv_transpose",
         "def _conv_transpose(g, w, stride, pads, dilation, groups, size):\n"
         "    \"\"\"The adjoint of a convolution's input (ONNX's ConvTranspose): the transposed convolution\n"
         "    without padding, cut to rows [top, top + height) and columns [left, left + width), zeros\n"
         "    where it ends before that. pads: ONNX's (top, left, bottom, right); size: (height, width).\"\"\"\n"
         "    full = F.conv_transpose2d(g, w, stride=stride, dilation=dilation, groups=groups)\n"
         "    top, left = pads[0], pads[1]\n"
         "    more_h = max(0, top + size[0] - full.shape[2])\n"
         "    more_w = max(0, left + size[1] - full.shape[3])\n"
         "    if more_h or more_w:\n"
         "        full = F.pad(full, (0, more_w, 0, more_h))\n"
         "    return full[:, :, top:top + size[0], left:left + size[1]]\n"},
        {"_expand",
         "def _expand(x, shape):\n"
         "    \"\"\"ONNX's Expand: the broadcast of the tensor's shape and `shape`.\"\"\"\n"
         "    return x.expand(torch.broadcast_shapes(x.shape, shape))\n"},
        {"_gather",
         "def _gather(x, idx, axis):\n"
         "    \"\"\"ONNX's Gather (an embedding lookup on axis 0): negative indices count from the end.\"\"\"\n"
         "    idx = torch.where(idx < 0, idx + x.shape[axis], idx)\n"
         "    out = torch.index_select(x, axis, idx.reshape(-1))\n"
         "    return out.reshape(x.shape[:axis] + idx.shape + x.shape[axis + 1:])\n"},
        {"_gather_elements",
         "def _gather_elements(x, idx, axis):\n"
         "    \"\"\"ONNX's GatherElements (torch.gather): negative indices count from the end.\"\"\"\n"
         "    return torch.gather(x, axis, torch.where(idx < 0, idx + x.shape[axis], idx))\n"},
        {"_arg_extreme",
         "def _arg_extreme(x, axis, keepdims, last, largest):\n"
         "    \"\"\"ONNX's ArgMax/ArgMin: the first position of the extreme, or the last with select_last_index.\"\"\"\n"
         "    pick = torch.argmax if largest else torch.argmin\n"
         "    if last:\n"
         "        i = x.shape[axis] - 1 - pick(torch.flip(x, [axis]), axis, keepdim=bool(keepdims))\n"
         "    else:\n"
         "        i = pick(x, axis, keepdim=bool(keepdims))\n"
         "    return i\n"},
        {"_batch_norm",
         "def _batch_norm(x, scale, bias, mean, var, eps, training):\n"
         "    \"\"\"Batch normalization over axis 1, written out so that every input has a gradient.\n"
         "    training: the batch's own mean and (biased) variance instead of mean and var.\"\"\"\n"
         "    shape = [1, -1] + [1] * (x.dim() - 2)\n"
         "    if training:\n"
         "        axes = [0] + list(range(2, x.dim()))\n"
         "        mean = x.mean(dim=axes)\n"
         "        var = x.var(dim=axes, unbiased=False)\n"
         "    x = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)\n"
         "    return x * scale.reshape(shape) + bias.reshape(shape)\n"},
        {"_layer_norm",
         "def _layer_norm(x, scale, bias, axis, eps):\n"
         "    \"\"\"Normalization over the axes from `axis` on (mean and biased variance), then scale and bias.\"\"\"\n"
         "    axes = list(range(axis % x.dim(), x.dim()))\n"
         "    mean = x.mean(dim=axes, keepdim=True)\n"
         "    var = ((x - mean) ** 2).mean(dim=axes, keepdim=True)\n"
         "    x = (x - mean) / torch.sqrt(var + eps)\n"
         "    if scale is not None:\n"
         "        x = x * scale\n"
         "    return x + bias if bias is not None else x\n"},
        {"_avg_pool_excluding_pads",
         "def _avg_pool_excluding_pads(x, kernel, stride, pads):\n"
         "    \"\"\"Average pooling whose divisor counts only the input's elements in each window.\n"
         "    pads: F.pad's order (left, right, top, bottom).\"\"\"\n"
         "    total = F.avg_pool2d(F.pad(x, pads), kernel, stride, divisor_override=1)\n"
         "    ones = F.pad(torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype), pads)\n"
         "    return total / F.avg_pool2d(ones, kernel, stride, divisor_override=1)\n"},
    };
    return kHelpers;
}

class Writer {
public:
    Writer(const Graph& g, std::string npzName) : g_(g), npzName_(std::move(npzName)) {}

    PyTorchModule write() {
        std::vector<NodeId> order = g_.liveTopoOrder();
        std::set<std::string> attrNames;
        // parameters and constants become attributes; inputs the arguments of forward
        for (NodeId id : g_.inputNodes()) inputs_.push_back({id, identifier(g_.node(id).name, locals_)});
        for (NodeId id : order) {
            const Node& n = g_.node(id);
            if (n.op != Op::Parameter && n.op != Op::Constant) continue;
            if (n.value.dtype() != DType::F32 && n.value.dtype() != DType::I64)
                refuse(n, "a " + std::string(dtypeName(n.value.dtype())) + " tensor (the .npz holds float32 and int64)");
            const std::string attr = identifier(n.name, attrNames);
            values_[{id, 0}] = "self." + attr;
            stored_.push_back({id, attr});
        }
        for (const auto& [id, name] : inputs_) values_[{id, 0}] = name;
        for (NodeId id : order) {
            const Node& n = g_.node(id);
            if (isSource(n.op)) continue;
            statement(n);
        }
        return {assemble(), tensors()};
    }

private:
    std::string in(const Node& n, std::size_t i) const { return values_.at(n.inputs.at(i)); }
    int rank(const Node& n, std::size_t i) const { return int(g_.type(n.inputs.at(i)).shape.size()); }
    std::string opt(const Node& n, std::size_t i) const { return i < n.inputs.size() ? in(n, i) : "None"; }

    std::string newLocal(const std::string& name) { return identifier(name, locals_); }

    void line(const std::string& target, const std::string& expr, const Node& n) {
        body_ += "        " + target + " = " + expr + "  # " + commentText(n.name) + " (" + std::string(opName(n.op)) + ")\n";
    }

    std::string useHelper(const std::string& name) {
        usedHelpers_.insert(name);
        return name;
    }

    /// An elementwise op applied to argument expressions: the arithmetic inline, anything else
    /// through a function written from the op's scalar expression.
    std::string elementwise(Op op, const std::vector<std::string>& args, const EwParams& params) {
        switch (op) {
            case Op::Add: return args[0] + " + " + args[1];
            case Op::Sub: return args[0] + " - " + args[1];
            case Op::Mul: return args[0] + " * " + args[1];
            case Op::Div: return args[0] + " / " + args[1];
            case Op::Neg: return "-" + args[0];
            default: break;
        }
        std::string call = ewFunction(op) + "(";
        for (std::size_t i = 0; i < args.size(); ++i) call += (i ? ", " : "") + args[i];
        for (std::size_t k = 0; k < kEwParamNames.size(); ++k)
            if (hasFloatAttribute(op, kEwParamNames[k])) call += std::string(", ") + kEwParamNames[k] + "=" + pyFloat(params[k]);
        return call + ")";
    }

    static bool hasFloatAttribute(Op op, const std::string& name) {
        for (const auto& a : opInfo(op).attrs)
            if (a.name == name && a.type == AttrType::Float) return true;
        return false;
    }

    /// The name of the function that computes `op` element by element, defined once per file.
    std::string ewFunction(Op op) {
        const OpInfo& info = opInfo(op);
        std::string fn(info.name);
        if (fn == "abs" || fn == "pow" || fn == "round") fn += "_";  // not Python's own
        if (ewFunctions_.count(op)) return fn;
        PythonExpression e = pythonFromScalarExpr(info.scalarExpr);
        scalarFunctions_.insert(e.functions.begin(), e.functions.end());
        std::string params;
        static const char* kArgs[] = {"a", "b", "c"};
        for (int i = 0; i < info.minInputs; ++i) params += std::string(i ? ", " : "") + kArgs[i];
        for (const char* p : kEwParamNames)
            if (hasFloatAttribute(op, p)) params += std::string(", ") + p;
        ewFunctions_[op] = "def " + fn + "(" + params + "):\n    \"\"\"" + std::string(info.doc) + "\"\"\"\n    return " + e.text + "\n";
        return fn;
    }

    void statement(const Node& n);
    std::string assemble() const;
    std::vector<std::pair<std::string, Tensor>> tensors() const {
        std::vector<std::pair<std::string, Tensor>> out;
        for (const auto& [id, attr] : stored_) out.push_back({attr, g_.node(id).value});
        return out;
    }

    const Graph& g_;
    std::string npzName_;
    std::vector<std::pair<NodeId, std::string>> inputs_;  // Input node, argument name
    std::vector<std::pair<NodeId, std::string>> stored_;  // Parameter or Constant node, attribute
    std::map<ValueRef, std::string> values_;
    std::set<std::string> locals_;
    std::set<std::string> usedHelpers_;       // _reshape, ...
    std::map<Op, std::string> ewFunctions_;    // elementwise ops written as functions
    std::set<std::string> scalarFunctions_;   // the f_* they call
    std::string body_;
};


/// `axes` of a reduction as torch dims (all axes when the attribute is absent).
Ints reductionAxes(const Node& n, int rank) {
    Ints axes;
    if (n.attrs.has("axes")) {
        for (auto a : n.attrs.getInts(n.op, "axes")) axes.push_back(a < 0 ? a + rank : a);
    } else {
        for (int i = 0; i < rank; ++i) axes.push_back(i);
    }
    return axes;
}

/// ONNX pads [top, left, bottom, right] as F.pad's (left, right, top, bottom).
std::string torchPads(const Ints& pads) { return pyInts({pads[1], pads[3], pads[0], pads[2]}, true); }

bool symmetric(const Ints& pads) { return pads[0] == pads[2] && pads[1] == pads[3]; }

void Writer::statement(const Node& n) {
    const std::string target = newLocal(n.name);
    const Op op = n.op;
    const Attributes& at = n.attrs;
    std::string e;
    if (isElementwise(op) && op != Op::Fused) {
        std::vector<std::string> args;
        for (std::size_t i = 0; i < n.inputs.size(); ++i) args.push_back(in(n, i));
        e = elementwise(op, args, ewParams(op, at));
    } else {
        switch (op) {
            case Op::Fused: {
                // the instructions one per line, registers named after the node
                const FusedProgram program = parseFusedProgram(at.getString(op, "program"), int(n.inputs.size()));
                std::vector<std::string> registers;
                std::vector<std::set<int>> reads;  // the node inputs each register depends on
                for (std::size_t k = 0; k < program.instrs.size(); ++k) {
                    const FusedInstr& ins = program.instrs[k];
                    std::vector<std::string> args;
                    std::set<int> read;
                    for (const auto& a : ins.args) {
                        args.push_back(a.isInput ? in(n, std::size_t(a.index)) : registers.at(std::size_t(a.index)));
                        if (a.isInput) read.insert(a.index);
                        else read.insert(reads.at(std::size_t(a.index)).begin(), reads.at(std::size_t(a.index)).end());
                    }
                    const bool last = k + 1 == program.instrs.size();
                    std::string value = elementwise(ins.op, args, ins.params);
                    // the node's output is the broadcast of all its inputs, also of those the last
                    // instruction does not read
                    if (last && read.size() < n.inputs.size()) {
                        std::string others;
                        for (std::size_t i = 0; i < n.inputs.size(); ++i)
                            if (!read.count(int(i))) others += ", " + in(n, i) + ".shape";
                        value = useHelper("_broadcast_to_all") + "(" + value + others + ")";
                    }
                    const std::string r = last ? target : newLocal(n.name + "_r" + std::to_string(k));
                    body_ += "        " + r + " = " + value + (last ? "  # " + commentText(n.name) + " (fused)" : "") + "\n";
                    registers.push_back(r);
                    reads.push_back(std::move(read));
                }
                values_[{n.id, 0}] = target;
                return;
            }
            case Op::MatMul: e = "torch.matmul(" + in(n, 0) + ", " + in(n, 1) + ")"; break;
            case Op::Gemm: {
                const bool ta = at.getInt(op, "transA") != 0, tb = at.getInt(op, "transB") != 0;
                const double alpha = at.getFloat(op, "alpha"), beta = at.getFloat(op, "beta");
                const bool hasC = n.inputs.size() == 3;
                if (!ta && tb && alpha == 1 && (!hasC || beta == 1)) {
                    e = "F.linear(" + in(n, 0) + ", " + in(n, 1) + (hasC ? ", " + in(n, 2) : "") + ")";
                    break;
                }
                e = "torch.matmul(" + in(n, 0) + (ta ? ".t()" : "") + ", " + in(n, 1) + (tb ? ".t()" : "") + ")";
                if (alpha != 1) e = pyFloat(alpha) + " * " + e;
                if (hasC) e += " + " + (beta != 1 ? pyFloat(beta) + " * " : "") + in(n, 2);
                break;
            }
            case Op::Sum: case Op::Mean: case Op::Max: {
                const int r = rank(n, 0);
                const Ints axes = reductionAxes(n, r);
                if (axes.empty()) {  // an empty axes list reduces nothing
                    e = in(n, 0);
                    break;
                }
                const bool keep = at.getInt(op, "keepdims") != 0;
                const char* fn = op == Op::Sum ? "torch.sum" : op == Op::Mean ? "torch.mean" : "torch.amax";
                e = std::string(fn) + "(" + in(n, 0) + ", dim=" + pyInts(axes, true) + (keep ? ", keepdim=True" : "") + ")";
                break;
            }
            case Op::Softmax: case Op::LogSoftmax:
                e = std::string(op == Op::Softmax ? "torch.softmax(" : "torch.log_softmax(") + in(n, 0) + ", dim=" +
                    std::to_string(at.getInt(op, "axis")) + ")";
                break;
            case Op::Reshape: {
                const Ints shape = at.getInts(op, "shape");
                bool copies = false;
                for (auto d : shape) copies = copies || d == 0;
                e = copies ? useHelper("_reshape") + "(" + in(n, 0) + ", " + pyInts(shape) + ")" : in(n, 0) + ".reshape(" + pyInts(shape, true) + ")";
                break;
            }
            case Op::Transpose: {
                Ints perm;
                if (at.has("perm")) perm = at.getInts(op, "perm");
                else
                    for (int i = rank(n, 0); i-- > 0;) perm.push_back(i);
                e = in(n, 0) + ".permute(" + pyInts(perm, true) + ")";
                break;
            }
            case Op::Flatten: {
                std::int64_t axis = at.getInt(op, "axis");
                if (axis < 0) axis += rank(n, 0);
                e = useHelper("_flatten") + "(" + in(n, 0) + ", " + std::to_string(axis) + ")";
                break;
            }
            case Op::Squeeze: {
                if (!at.has("axes")) {
                    e = in(n, 0) + ".squeeze()";
                    break;
                }
                Ints axes = reductionAxes(n, rank(n, 0));
                std::sort(axes.rbegin(), axes.rend());  // from the last, so that the others keep their places
                e = in(n, 0);
                for (auto a : axes) e += ".squeeze(" + std::to_string(a) + ")";
                break;
            }
            case Op::Unsqueeze: {
                const int outRank = int(g_.type({n.id, 0}).shape.size());
                Ints axes;
                for (auto a : at.getInts(op, "axes")) axes.push_back(a < 0 ? a + outRank : a);
                std::sort(axes.begin(), axes.end());  // ascending: each lands at its place in the result
                e = in(n, 0);
                for (auto a : axes) e += ".unsqueeze(" + std::to_string(a) + ")";
                break;
            }
            case Op::Expand:  // broadcasts both ways, as ONNX's Expand (a dynamic batch stays dynamic)
                e = useHelper("_expand") + "(" + in(n, 0) + ", " + pyInts(at.getInts(op, "shape"), true) + ")";
                break;
            case Op::Slice: {
                const Ints starts = at.getInts(op, "starts"), ends = at.getInts(op, "ends");
                const int r = rank(n, 0);
                Ints axes, steps;
                if (at.has("axes")) axes = at.getInts(op, "axes");
                else
                    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(std::int64_t(i));
                steps = at.has("steps") ? at.getInts(op, "steps") : Ints(starts.size(), 1);
                std::vector<std::string> parts(std::size_t(r), ":");
                for (std::size_t i = 0; i < starts.size(); ++i) {
                    const std::int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
                    parts[std::size_t(a)] = std::to_string(starts[i]) + ":" + std::to_string(ends[i]) + (steps[i] != 1 ? ":" + std::to_string(steps[i]) : "");
                }
                while (!parts.empty() && parts.back() == ":") parts.pop_back();
                e = in(n, 0) + "[";
                for (std::size_t i = 0; i < parts.size(); ++i) e += (i ? ", " : "") + parts[i];
                e += parts.empty() ? "...]" : "]";
                break;
            }
            case Op::Concat: {
                e = "torch.cat([";
                for (std::size_t i = 0; i < n.inputs.size(); ++i) e += (i ? ", " : "") + in(n, i);
                e += "], dim=" + std::to_string(at.getInt(op, "axis")) + ")";
                break;
            }
            case Op::Split: {
                std::string targets;
                for (int k = 0; k < n.numOutputs(); ++k) {
                    const std::string t = k == 0 ? target : newLocal(n.name + "_" + std::to_string(k));
                    values_[{n.id, k}] = t;
                    targets += (k ? ", " : "") + t;
                }
                line(targets + (n.numOutputs() == 1 ? "," : ""),
                     "torch.split(" + in(n, 0) + ", " + pyInts(at.getInts(op, "sizes")) + ", dim=" + std::to_string(at.getInt(op, "axis")) + ")", n);
                return;
            }
            case Op::Pad: {
                const Ints pads = at.getInts(op, "pads");
                const std::size_t r = pads.size() / 2;
                Ints torchOrder;  // last axis first: (begin, end) pairs
                for (std::size_t a = r; a-- > 0;) {
                    torchOrder.push_back(pads[a]);
                    torchOrder.push_back(pads[r + a]);
                }
                while (torchOrder.size() > 2 && torchOrder[torchOrder.size() - 1] == 0 && torchOrder[torchOrder.size() - 2] == 0)
                    torchOrder.resize(torchOrder.size() - 2);
                const double value = at.getFloat(op, "value");
                e = "F.pad(" + in(n, 0) + ", " + pyInts(torchOrder, true) + (value != 0 ? ", value=" + pyFloat(value) : "") + ")";
                break;
            }
            case Op::Gather:
                e = useHelper("_gather") + "(" + in(n, 0) + ", " + in(n, 1) + ", " + std::to_string(at.getInt(op, "axis") < 0 ? at.getInt(op, "axis") + rank(n, 0) : at.getInt(op, "axis")) + ")";
                break;
            case Op::GatherElements:
                e = useHelper("_gather_elements") + "(" + in(n, 0) + ", " + in(n, 1) + ", " + std::to_string(at.getInt(op, "axis")) + ")";
                break;
            case Op::Cast: {
                const std::string to = at.getString(op, "to");
                e = in(n, 0) + ".to(torch." + std::string(to == "i64" ? "int64" : to == "i32" ? "int32" : to == "bool" ? "bool" : "float32") + ")";
                break;
            }
            case Op::ArgMax: case Op::ArgMin:
                e = useHelper("_arg_extreme") + "(" + in(n, 0) + ", " + std::to_string(at.getInt(op, "axis")) + ", " +
                    std::to_string(at.getInt(op, "keepdims")) + ", " + std::to_string(at.getInt(op, "select_last_index")) + ", " +
                    (op == Op::ArgMax ? "True" : "False") + ")";
                break;
            case Op::Conv2d: {
                const Ints pads = at.getInts(op, "pads");
                const std::string x = symmetric(pads) ? in(n, 0) : "F.pad(" + in(n, 0) + ", " + torchPads(pads) + ")";
                e = "F.conv2d(" + x + ", " + in(n, 1) + ", " + opt(n, 2) + ", stride=" + pyInts(at.getInts(op, "strides"), true) +
                    ", padding=" + (symmetric(pads) ? pyInts({pads[0], pads[1]}, true) : "0") + ", dilation=" +
                    pyInts(at.getInts(op, "dilations"), true) + ", groups=" + std::to_string(at.getInt(op, "group")) + ")";
                break;
            }
            case Op::Conv2dGradInput: {  // a transposed convolution (ONNX's ConvTranspose reads as one)
                const Ints size = at.getInts(op, "input_shape");
                e = useHelper("_conv_transpose") + "(" + in(n, 0) + ", " + in(n, 1) + ", " + pyInts(at.getInts(op, "strides"), true) + ", " +
                    pyInts(at.getInts(op, "pads"), true) + ", " + pyInts(at.getInts(op, "dilations"), true) + ", " +
                    std::to_string(at.getInt(op, "group")) + ", " + pyInts({size.at(2), size.at(3)}, true) + ")";
                break;
            }
            case Op::MaxPool: case Op::AvgPool: {
                const Ints k = at.getInts(op, "kernel"), pads = at.getInts(op, "pads");
                const Ints strides = at.has("strides") ? at.getInts(op, "strides") : Ints{1, 1};
                const bool none = pads == Ints{0, 0, 0, 0};
                // F.*_pool2d pads both sides alike, by at most half the window
                const bool inline_ = symmetric(pads) && pads[0] * 2 <= k[0] && pads[1] * 2 <= k[1];
                const std::string args = pyInts(k, true) + ", " + pyInts(strides, true);
                if (op == Op::MaxPool) {
                    e = inline_ ? "F.max_pool2d(" + in(n, 0) + ", " + args + (none ? "" : ", padding=" + pyInts({pads[0], pads[1]}, true)) + ")"
                                : "F.max_pool2d(F.pad(" + in(n, 0) + ", " + torchPads(pads) + ", value=-float('inf')), " + args + ")";
                    break;
                }
                const bool includePad = at.getInt(op, "count_include_pad") != 0;
                if (none) e = "F.avg_pool2d(" + in(n, 0) + ", " + args + ")";
                else if (inline_)
                    e = "F.avg_pool2d(" + in(n, 0) + ", " + args + ", padding=" + pyInts({pads[0], pads[1]}, true) +
                        ", count_include_pad=" + (includePad ? "True" : "False") + ")";
                else if (includePad) e = "F.avg_pool2d(F.pad(" + in(n, 0) + ", " + torchPads(pads) + "), " + args + ")";
                else e = useHelper("_avg_pool_excluding_pads") + "(" + in(n, 0) + ", " + args + ", " + torchPads(pads) + ")";
                break;
            }
            case Op::GlobalAvgPool: {
                Ints axes;
                for (int i = 2; i < rank(n, 0); ++i) axes.push_back(i);
                e = in(n, 0) + ".mean(dim=" + pyInts(axes, true) + ", keepdim=True)";
                break;
            }
            case Op::BatchNorm:
                e = useHelper("_batch_norm") + "(" + in(n, 0) + ", " + in(n, 1) + ", " + in(n, 2) + ", " + in(n, 3) + ", " + in(n, 4) + ", " +
                    pyFloat(at.getFloat(op, "epsilon")) + ", " + (at.getInt(op, "training") != 0 ? "True" : "False") + ")";
                break;
            case Op::LayerNorm:
                e = useHelper("_layer_norm") + "(" + in(n, 0) + ", " + opt(n, 1) + ", " + opt(n, 2) + ", " + std::to_string(at.getInt(op, "axis")) +
                    ", " + pyFloat(at.getFloat(op, "epsilon")) + ")";
                break;
            default:
                if (hasGroup(op, GRAD))
                    refuse(n, "a derivative op has no PyTorch form: export the forward graph, PyTorch differentiates it itself");
                refuse(n, "no PyTorch form for this op");
        }
    }
    values_[{n.id, 0}] = target;
    line(target, e, n);
}

std::string pyString(const std::string& s) { return pythonStringLiteral(s); }

std::string Writer::assemble() const {
    std::ostringstream py;
    const std::string moduleName = std::filesystem::path(npzName_).stem().string();
    std::string args, outputs;
    std::vector<std::string> inputNames, outputNames;
    for (const auto& [id, name] : inputs_) args += ", " + name;
    for (const auto& o : g_.outputs()) {
        outputs += (outputs.empty() ? "" : ", ") + values_.at(o.value);
        outputNames.push_back(o.name);
    }
    auto list = [](const std::vector<std::string>& items) {
        std::string s = "[";
        for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + pyString(items[i]);
        return s + "]";
    };
    auto attributes = [&](bool trainable) {
        std::string s = "{";
        for (const auto& [id, attr] : stored_)
            if ((g_.node(id).op == Op::Parameter) == trainable) s += (s.size() > 1 ? ", " : "") + pyString(attr) + ": " + pyString(g_.node(id).name);
        return s + "}";
    };

    // the docstring: what forward takes and returns
    py << "\"\"\"" << (g_.name.empty() ? "A graph" : docText(g_.name)) << " as a PyTorch module, exported by Adjoint (adjoint-cli export).\n";
    if (!g_.description.empty()) py << "\n" << docText(g_.description) << "\n";
    py << "\nforward(" << (args.empty() ? "" : args.substr(2)) << ") takes the graph's inputs in order:\n";
    for (const auto& [id, name] : inputs_) {
        const Node& n = g_.node(id);
        py << "    " << name << ": " << pythonDType(n.declaredDType) << " " << docText(shapeWithNames(n.declaredShape, n.dimNames)) << "\n";
        inputNames.push_back(n.name);
    }
    py << "and returns " << (g_.outputs().size() == 1 ? "the output" : "a tuple of the outputs") << " (OUTPUTS).\n\n"
       << "    import " << docText(moduleName) << "\n"
       << "    model = " << docText(moduleName) << ".load()  # the parameters of " << docText(npzName_) << ", beside this file\n"
       << "\"\"\"\n"
       << "import os\n\nimport numpy as np\nimport torch\nimport torch.nn.functional as F\n\n"
       << "INPUTS = " << list(inputNames) << "  # the graph's inputs, in forward's order\n"
       << "OUTPUTS = " << list(outputNames) << "  # the graph's outputs, in the order forward returns them\n"
       << "PARAMETERS = " << attributes(true) << "  # attribute -> the graph's parameter\n"
       << "CONSTANTS = " << attributes(false) << "  # buffer -> the graph's constant\n";

    // the scalar functions (one line each), the elementwise ops written from the op table, the
    // helpers: top-level definitions, two blank lines apart
    std::set<std::string> scalar = scalarFunctions_;
    if (!scalar.empty()) {
        py << "\n\n" << pytorchScalarFunction("_t") << "\n";
        for (const auto& f : scalar)
            if (f != "_t") py << pytorchScalarFunction(f) << "\n";
    }
    for (const auto& [op, text] : ewFunctions_) py << "\n\n" << text;
    for (const auto& h : usedHelpers_) py << "\n\n" << helperTexts().at(h);
    py << "\n";
    py << "\nclass Model(torch.nn.Module):\n"
       << "    def __init__(self):\n"
       << "        super().__init__()\n";
    for (const auto& [id, attr] : stored_) {
        const Node& n = g_.node(id);
        const std::string zeros = "torch.zeros(" + shapeArgs(n.value.shape()) + (n.value.dtype() == DType::I64 ? ", dtype=torch.int64" : "") + ")";
        if (n.op == Op::Parameter) py << "        self." << attr << " = torch.nn.Parameter(" << zeros << ")\n";
        else py << "        self.register_buffer(" << pyString(attr) << ", " << zeros << ")\n";
    }
    py << "\n    def forward(self" << args << "):\n" << body_ << "        return " << (outputs.empty() ? "None" : outputs) << "\n\n\n"
       << "def load(path=None):\n"
       << "    \"\"\"A Model with the parameters and constants of " << docText(npzName_) << " (beside this file) or of PATH.\"\"\"\n"
       << "    model = Model()\n"
       << "    if path is None:\n"
       << "        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), " << pyString(npzName_) << ")\n"
       << "    with np.load(path) as data:\n"
       << "        model.load_state_dict({name: torch.from_numpy(data[name]) for name in data.files})\n"
       << "    return model\n";
    return py.str();
}

}  // namespace

PyTorchModule pytorchModule(const Graph& graph, const std::string& npzName) { return Writer(graph, npzName).write(); }

std::string pytorchParametersPath(const std::string& pyPath) {
    return std::filesystem::path(pyPath).replace_extension(".npz").string();
}

void savePyTorchModule(const Graph& graph, const std::string& pyPath) {
    const std::string npz = pytorchParametersPath(pyPath);
    PyTorchModule m;
    try {
        m = pytorchModule(graph, std::filesystem::path(npz).filename().string());
    } catch (const GraphError& e) {
        throw GraphError(pyPath + ": " + e.what());
    }
    // the parameters first: the module file that reads them is the last thing to change
    try {
        writeNpz(npz, m.tensors);
    } catch (const FormatError& e) {
        throw FormatError(pyPath + ": its parameters: " + e.what());
    }
    writeFileAtomically(pyPath, m.source);
}

}  // namespace adj
