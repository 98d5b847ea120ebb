#include "base/errors.h"
#include "passes/matchers.h"
#include "passes/passes.h"
#include "runtime/cpu/cpu_kernels.h"

namespace adj {

using namespace match;

RuleSet constantFoldingRules(std::int64_t maxElements) {
    RewriteRule fold{"fold-constant", {}, [maxElements](Rewriter& rw, NodeId root) -> RewriteResult {
        const Graph& g = rw.graph();
        const Node& n = g.node(root);
        if (isSource(n.op) || n.inputs.empty() || n.outputs.empty()) return kNoMatch;
        std::int64_t total = 0;
        for (const auto& t : n.outputs) total += numel(t.shape);
        if (total > maxElements || !allInputsConstant(g, n)) return kNoMatch;

        cpu::KernelCall call{n, {}, n.outputs, {}};
        for (const auto& v : n.inputs) call.inputs.push_back(g.node(v.node).value);
        try {
            cpu::runKernel(call);
        } catch (const Error&) {
            return kNoMatch;  // left for the run to report
        }
        std::vector<ValueRef> out;
        for (std::size_t p = 0; p < call.outputs.size(); ++p)
            out.push_back(rw.builder().constant(call.outputs[p].contiguous().clone(), n.name + (call.outputs.size() > 1 ? "_" + std::to_string(p) : "") + "_c"));
        return replaceBy(std::move(out));
    }};
    return RuleSet({fold});
}

}  // namespace adj
