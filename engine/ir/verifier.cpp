#include "ir/verifier.h"

#include <set>

#include "base/errors.h"
#include "ir/shape_inference.h"

namespace adj {

namespace {
std::string where(const Node& n) { return "node '" + n.name + "' (" + std::string(opName(n.op)) + ")"; }

/// The numbers of an int, float or list attribute value (none for a string).
std::vector<double> numbersOf(const AttrValue& v) {
    if (auto i = std::get_if<std::int64_t>(&v)) return {double(*i)};
    if (auto d = std::get_if<double>(&v)) return {*d};
    if (auto is = std::get_if<std::vector<std::int64_t>>(&v)) return std::vector<double>(is->begin(), is->end());
    if (auto ds = std::get_if<std::vector<double>>(&v)) return *ds;
    return {};
}
}  // namespace

std::vector<std::string> checkAttributes(const Node& node) {
    std::vector<std::string> problems;
    const OpInfo& info = opInfo(node.op);
    for (const auto& [name, value] : node.attrs.map()) {
        const AttrSpec* spec = nullptr;
        for (const auto& s : info.attrs)
            if (s.name == name) spec = &s;
        if (!spec) {
            problems.push_back(where(node) + ": unknown attribute '" + name + "'");
            continue;
        }
        AttrType t = attrValueType(value);
        bool ok = t == spec->type || (spec->type == AttrType::Float && t == AttrType::Int) ||
                  (spec->type == AttrType::Floats && t == AttrType::Ints) ||
                  (spec->type == AttrType::Ints && t == AttrType::Floats && std::get<std::vector<double>>(value).empty());
        if (!ok) {
            problems.push_back(where(node) + ": attribute '" + name + "' must be " + std::string(attrTypeName(spec->type)) + ", got " +
                               std::string(attrTypeName(t)));
            continue;
        }
        for (const AttrConstraint& c : spec->constraints)
            for (double v : numbersOf(value))
                if (!c.holds(v)) {
                    problems.push_back(where(node) + ": attribute '" + name + "' must be " + c.text() + ", got " + attrValueToString(value));
                    break;
                }
    }
    for (const auto& s : info.attrs)
        if (s.required && !node.attrs.has(s.name)) problems.push_back(where(node) + ": required attribute '" + s.name + "' is missing");
    return problems;
}

std::vector<Diagnostic> verifyGraph(Graph& graph) {
    std::vector<Diagnostic> diags;
    auto add = [&](NodeId id, std::string msg) { diags.push_back({id, std::move(msg)}); };

    // Structure: dangling inputs, ports, arity, attributes, source values.
    std::vector<char> broken(std::size_t(graph.idBound()), 0);
    for (NodeId id : graph.nodeIds()) {
        Node& n = graph.node(id);
        const OpInfo& info = opInfo(n.op);
        const int k = int(n.inputs.size());
        if (k < info.minInputs || (info.maxInputs >= 0 && k > info.maxInputs)) {
            add(id, where(n) + ": takes " +
                        (info.minInputs == info.maxInputs ? std::to_string(info.minInputs)
                         : info.maxInputs < 0             ? "at least " + std::to_string(info.minInputs)
                                                          : std::to_string(info.minInputs) + " to " + std::to_string(info.maxInputs)) +
                        " inputs, got " + std::to_string(k));
            broken[std::size_t(id)] = 1;
        }
        for (std::size_t i = 0; i < n.inputs.size(); ++i) {
            const ValueRef& v = n.inputs[i];
            if (!graph.contains(v.node)) {
                add(id, where(n) + ": input " + std::to_string(i) + " is not connected");
                broken[std::size_t(id)] = 1;
            } else if (v.port < 0 || v.port >= graph.node(v.node).numOutputs()) {
                add(id, where(n) + ": input " + std::to_string(i) + " reads output " + std::to_string(v.port) + " of '" + graph.node(v.node).name +
                            "', which has " + std::to_string(graph.node(v.node).numOutputs()));
                broken[std::size_t(id)] = 1;
            }
        }
        for (auto& p : checkAttributes(n)) {
            add(id, p);
            broken[std::size_t(id)] = 1;
        }
        if ((n.op == Op::Parameter || n.op == Op::Constant) && !n.value.defined()) {
            add(id, where(n) + ": has no value");
            broken[std::size_t(id)] = 1;
        }
    }
    std::set<std::string> outNames;
    for (const auto& o : graph.outputs()) {
        if (!graph.contains(o.value.node)) add(kNoNode, "output '" + o.name + "' refers to a value that does not exist");
        else if (o.value.port < 0 || o.value.port >= graph.node(o.value.node).numOutputs())
            add(o.value.node, "output '" + o.name + "' refers to a missing output port of '" + graph.node(o.value.node).name + "'");
        if (!outNames.insert(o.name).second) add(kNoNode, "output name '" + o.name + "' is used twice");
    }
    if (graph.outputs().empty()) add(kNoNode, "the graph has no outputs");

    // Cycles.
    std::vector<NodeId> order;
    try {
        order = graph.topoOrder();
    } catch (const GraphError& e) {
        add(kNoNode, e.what());
        for (NodeId id : graph.nodeIds()) graph.node(id).outputs.clear();
        return diags;
    }

    // Shapes, in order; nodes fed by a broken node are skipped (their problem is upstream).
    for (NodeId id : order) {
        Node& n = graph.node(id);
        bool upstreamBroken = false;
        std::vector<ValueType> ins;
        for (const auto& v : n.inputs) {
            if (!graph.contains(v.node) || broken[std::size_t(v.node)] || !graph.hasType(v)) {
                upstreamBroken = true;
                break;
            }
            ins.push_back(graph.type(v));
        }
        if (broken[std::size_t(id)] || upstreamBroken) {
            broken[std::size_t(id)] = 1;
            n.outputs.clear();
            continue;
        }
        try {
            n.outputs = inferNodeTypes(n, ins);
        } catch (const GraphError& e) {
            add(id, e.what());
            broken[std::size_t(id)] = 1;
            n.outputs.clear();
        }
    }
    return diags;
}

void verifyOrThrow(Graph& graph) {
    auto diags = verifyGraph(graph);
    if (diags.empty()) return;
    std::string msg = diags.front().message;
    if (diags.size() > 1) msg += " (and " + std::to_string(diags.size() - 1) + " more problems)";
    throw GraphError(msg);
}

}  // namespace adj
