#include "fusion_panel_model.h"

#include <algorithm>

#include "base/errors.h"
#include "ir/fused_program.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"

FusionAnalysis analyseFusion(const adj::Graph& graph) {
    FusionAnalysis a;
    a.graph = graph;
    auto problems = adj::verifyGraph(a.graph);
    if (!problems.empty()) throw adj::GraphError("cannot fuse an invalid graph: " + problems.front().message);
    std::vector<std::string> before;
    for (const std::string& p : adj::pipelinePasses(2)) {
        if (p == adj::kFusionPassName) break;
        before.push_back(p);
    }
    adj::OptimizeOptions pre;
    pre.passes = before;
    adj::optimizeGraph(a.graph, pre);

    adj::Graph fused = a.graph;
    adj::RewriteTrace trace;
    adj::OptimizeOptions options;
    options.passes = {adj::kFusionPassName};
    options.trace = &trace;
    adj::optimizeGraph(fused, options);
    a.notes = trace.fusionNotes;
    for (const adj::RewriteStep& s : trace.steps) {
        auto node = std::find_if(s.added.begin(), s.added.end(), [](const adj::TraceNode& t) { return t.op == adj::Op::Fused; });
        if (node == s.added.end()) continue;
        FusionGroup g;
        g.name = node->name;
        g.inputCount = int(node->inputs.size());
        g.program = node->attrs.getString(adj::Op::Fused, "program");
        for (const std::string& r : s.removed)
            if (auto id = a.graph.findNode(r); id && adj::isElementwise(a.graph.node(*id).op)) {
                g.members.push_back(*id);
                g.unfused += adj::nodeCost(a.graph, *id);
            }
        if (auto id = fused.findNode(g.name)) g.fused = adj::nodeCost(fused, *id);
        if (!g.members.empty()) a.groups.push_back(std::move(g));
    }
    return a;
}

std::string fusedKernelSource(const FusionGroup& group) {
    const adj::FusedProgram program = adj::parseFusedProgram(group.program, group.inputCount);
    auto operand = [](const adj::FusedOperand& o) {
        return o.isInput ? "in" + std::to_string(o.index) + "[i]" : "r" + std::to_string(o.index);
    };
    std::string s = "// " + group.name + ": " + std::to_string(program.instrs.size()) + " ops, " + std::to_string(group.inputCount) +
                    " inputs, one output;\n// one pass over the elements, tiled across threads (oneTBB);\n"
                    "// intermediates stay in registers, never in memory.\n";
    s += "for (i in tile) {\n";
    for (std::size_t k = 0; k < program.instrs.size(); ++k) {
        const adj::FusedInstr& in = program.instrs[k];
        std::string expr;
        const std::string name(adj::opName(in.op));
        static const std::pair<adj::Op, const char*> infix[] = {
            {adj::Op::Add, " + "}, {adj::Op::Sub, " - "}, {adj::Op::Mul, " * "}, {adj::Op::Div, " / "}};
        auto it = std::find_if(std::begin(infix), std::end(infix), [&](const auto& p) { return p.first == in.op; });
        if (it != std::end(infix) && in.args.size() == 2) expr = operand(in.args[0]) + it->second + operand(in.args[1]);
        else {
            expr = name + "(";
            for (std::size_t a = 0; a < in.args.size(); ++a) expr += (a ? ", " : "") + operand(in.args[a]);
            expr += ")";
        }
        s += "    float r" + std::to_string(k) + " = " + expr + ";\n";
    }
    s += "    out[i] = r" + std::to_string(program.instrs.empty() ? 0 : program.instrs.size() - 1) + ";\n}\n";
    s += "\n// program attribute:\n// " + program.text() + "\n";
    return s;
}
