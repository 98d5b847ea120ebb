#include "base/errors.h"
#include "passes/passes.h"
#include "runtime/cpu/cpu_kernels.h"

namespace adj {

RuleSet constantFoldingRules(std::int64_t maxElements) {
    RewriteRule fold{"fold-constant", {}, [maxElements](Rewriter& rw, NodeId id) -> std::optional<std::vector<ValueRef>> {
        Graph& g = rw.graph();
        const Node& n = g.node(id);
        if (isSource(n.op) || n.inputs.empty() || n.outputs.empty()) return std::nullopt;
        std::int64_t total = 0;
        for (const auto& t : n.outputs) total += numel(t.shape);
        if (total > maxElements) return std::nullopt;
        for (const auto& v : n.inputs)
            if (!g.contains(v.node) || g.node(v.node).op != Op::Constant) return std::nullopt;
        cpu::KernelCall call{n, {}, n.outputs, {}};
        for (const auto& v : n.inputs) call.inputs.push_back(g.node(v.node).value);
        try {
            cpu::runKernel(call);
        } catch (const Error&) {
            return std::nullopt;  // left for the run to report
        }
        std::vector<ValueRef> out;
        for (std::size_t p = 0; p < call.outputs.size(); ++p)
            out.push_back(rw.builder().constant(call.outputs[p].contiguous().clone(), n.name + (call.outputs.size() > 1 ? "_" + std::to_string(p) : "") + "_c"));
        return out;
    }};
    return RuleSet({fold});
}

}  // namespace adj
