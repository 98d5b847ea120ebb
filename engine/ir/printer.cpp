#include "ir/printer.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "base/errors.h"

namespace adj {

namespace {
std::string typesText(const Graph& g, const Node& n) {
    if (n.outputs.empty()) return " : ?";
    std::string s = " : ";
    for (std::size_t i = 0; i < n.outputs.size(); ++i) {
        if (i) s += ", ";
        const Shape& sh = n.outputs[i].shape;
        if (n.outputs[i].dtype != DType::F32) s += std::string(dtypeName(n.outputs[i].dtype));  // "i64[2, 6]"
        if (n.op == Op::Input && !n.dimNames.empty()) {
            s += "[";
            for (std::size_t d = 0; d < sh.size(); ++d) {
                if (d) s += ", ";
                if (d < n.dimNames.size() && !n.dimNames[d].empty()) s += n.dimNames[d] + "=";
                s += std::to_string(sh[d]);
            }
            s += "]";
        } else {
            s += shapeToString(sh);
        }
    }
    (void)g;
    return s;
}
}  // namespace

std::string printNode(const Graph& g, NodeId id, const PrintOptions& opt) {
    const Node& n = g.node(id);
    std::string line;
    if (n.op == Op::Input) {
        line = "input  %" + n.name;
    } else if (n.op == Op::Parameter) {
        line = "param  %" + n.name;
    } else if (n.op == Op::Constant) {
        line = "const  %" + n.name;
        if (n.value.defined() && n.value.numel() == 1) {
            char buf[32];
            std::snprintf(buf, sizeof buf, " = %.9g", double(n.value.flatAt(0)));
            line += buf;
        }
    } else {
        line = "%" + n.name + " = " + std::string(opName(n.op)) + "(";
        for (std::size_t i = 0; i < n.inputs.size(); ++i) line += (i ? ", %" : "%") + g.valueName(n.inputs[i]);
        line += ")";
        if (!n.attrs.map().empty()) {
            line += " {";
            bool first = true;
            for (const auto& [k, v] : n.attrs.map()) {
                line += (first ? "" : ", ") + k + "=" + attrValueToString(v);
                first = false;
            }
            line += "}";
        }
    }
    if (opt.shapes) line += typesText(g, n);
    return line;
}

std::vector<std::string> sortedPrintedLines(const std::string& printed) {
    std::vector<std::string> lines;
    std::istringstream in(printed);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::sort(lines.begin(), lines.end());
    return lines;
}

std::string printGraph(const Graph& g, const PrintOptions& opt) {
    std::string s = "graph " + (g.name.empty() ? std::string("unnamed") : g.name) + "\n";
    std::vector<NodeId> order;
    try {
        order = g.topoOrder();
    } catch (const GraphError&) {
        order = g.nodeIds();  // a cyclic graph still prints, in creation order
    }
    for (NodeId id : order) s += "  " + printNode(g, id, opt) + "\n";
    for (const auto& o : g.outputs()) s += "  output " + o.name + " = %" + g.valueName(o.value) + "\n";
    return s;
}

}  // namespace adj
