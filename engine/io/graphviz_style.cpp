// The drawing conventions shared by the DOT export and the GUI (io/graphviz.h): each node's
// category from its op's groups in ops.def, and the category's name and colours.
#include "io/graphviz.h"

#include <cstdint>

namespace adj {

NodeCategory nodeCategory(Op op) {
    if (op == Op::Input) return NodeCategory::Input;
    if (op == Op::Parameter) return NodeCategory::Parameter;
    if (op == Op::Constant) return NodeCategory::Constant;
    const std::uint32_t g = opInfo(op).groups;
    if (g & NORM) return NodeCategory::Normalization;
    if (g & LIN) return NodeCategory::Linear;
    if (g & RED) return NodeCategory::Reduction;
    if (g & MOVE) return NodeCategory::Movement;
    if (g & NN) return NodeCategory::NeuralNet;
    if (g & EW) return NodeCategory::Elementwise;
    return NodeCategory::Other;
}

std::string_view nodeCategoryName(NodeCategory c) {
    switch (c) {
    case NodeCategory::Input: return "input";
    case NodeCategory::Parameter: return "parameter";
    case NodeCategory::Constant: return "constant";
    case NodeCategory::Elementwise: return "elementwise";
    case NodeCategory::Linear: return "linear algebra";
    case NodeCategory::Reduction: return "reduction";
    case NodeCategory::Movement: return "data movement";
    case NodeCategory::NeuralNet: return "neural-network layer";
    case NodeCategory::Normalization: return "normalization";
    case NodeCategory::Output: return "graph output";
    case NodeCategory::Other: return "other";
    }
    return "other";
}

std::string_view nodeCategoryFill(NodeCategory c) {
    switch (c) {
    case NodeCategory::Input: return "#d3e8fd";
    case NodeCategory::Parameter: return "#ffe4b0";
    case NodeCategory::Constant: return "#ececec";
    case NodeCategory::Elementwise: return "#d8f1d8";
    case NodeCategory::Linear: return "#e5dbff";
    case NodeCategory::Reduction: return "#ffd9d4";
    case NodeCategory::Movement: return "#fbf3c0";
    case NodeCategory::NeuralNet: return "#cfeeee";
    case NodeCategory::Normalization: return "#fbdaec";
    case NodeCategory::Output: return "#e3e6ea";
    case NodeCategory::Other: return "#ffffff";
    }
    return "#ffffff";
}

std::string_view nodeCategoryBorder(NodeCategory c) {
    switch (c) {
    case NodeCategory::Input: return "#3b78c4";
    case NodeCategory::Parameter: return "#c7870a";
    case NodeCategory::Constant: return "#8c8c8c";
    case NodeCategory::Elementwise: return "#3f9142";
    case NodeCategory::Linear: return "#7553c4";
    case NodeCategory::Reduction: return "#c4503f";
    case NodeCategory::Movement: return "#a69316";
    case NodeCategory::NeuralNet: return "#2a8f8f";
    case NodeCategory::Normalization: return "#bd4f8a";
    case NodeCategory::Output: return "#3d4652";
    case NodeCategory::Other: return "#666666";
    }
    return "#666666";
}

}  // namespace adj
