#include "autodiff/decompositions.h"

#include <cmath>
#include <map>

#include "base/errors.h"
#include "ir/formula.h"
#include "ir/fused_program.h"

namespace adj {

ValueRef decompose(GraphBuilder& b, const Node& n, const std::vector<ValueRef>& in) {
    switch (n.op) {
#include "ir/op_elementwise_cases.inc"
        {
            const Formula& f = opFormula(n.op, FormulaColumn::Decomposition);
            if (f.empty()) break;
            std::map<std::string, ValueRef> names;
            for (std::size_t k = 0; k < in.size(); ++k) names[formulaInputName(k)] = in[k];
            return buildFormula(b, f, names, &n, {"y"}).at("y");
        }
        case Op::LayerNorm: {
            const Shape xs = b.shape(in[0]);
            std::int64_t axis = n.attrs.getInt(n.op, "axis");
            normalizeAxis(axis, std::int64_t(xs.size()));
            std::vector<std::int64_t> axes;
            for (std::int64_t a = axis; a < std::int64_t(xs.size()); ++a) axes.push_back(a);
            ValueRef mu = b.mean(in[0], axes, true);
            ValueRef d = b.sub(in[0], mu);
            ValueRef var = b.mean(b.mul(d, d), axes, true);
            ValueRef inv = b.unary(Op::Sqrt, b.add(var, b.constant(float(n.attrs.getFloat(n.op, "epsilon")))));
            ValueRef y = b.div(d, inv);
            if (in.size() > 1) y = b.mul(y, in[1]);
            if (in.size() > 2) y = b.add(y, in[2]);
            return y;
        }
        case Op::BatchNorm: {
            const Shape xs = b.shape(in[0]);
            Shape channel(xs.size(), 1);
            channel[1] = xs[1];
            auto perChannel = [&](ValueRef v) { return b.reshape(v, channel); };
            ValueRef mu, var;
            if (n.attrs.getInt(n.op, "training") != 0) {
                std::vector<std::int64_t> axes{0};
                for (std::size_t a = 2; a < xs.size(); ++a) axes.push_back(std::int64_t(a));
                mu = b.mean(in[0], axes, true);
                ValueRef d0 = b.sub(in[0], mu);
                var = b.mean(b.mul(d0, d0), axes, true);
            } else {
                mu = perChannel(in[3]);
                var = perChannel(in[4]);
            }
            ValueRef d = b.sub(in[0], mu);
            ValueRef inv = b.unary(Op::Sqrt, b.add(var, b.constant(float(n.attrs.getFloat(n.op, "epsilon")))));
            return b.add(b.mul(b.div(d, inv), perChannel(in[1])), perChannel(in[2]));
        }
        case Op::Fused: {
            // the group's program, expanded back into its ops
            const FusedProgram p = parseFusedProgram(n.attrs.getString(n.op, "program"), int(in.size()));
            std::vector<ValueRef> regs;
            for (const auto& ins : p.instrs) {
                std::vector<ValueRef> args;
                for (const auto& a : ins.args) args.push_back(a.isInput ? in[std::size_t(a.index)] : regs[std::size_t(a.index)]);
                regs.push_back(b.op(ins.op, args, ewAttributes(ins.op, ins.params)));
            }
            // the node's output is the broadcast of all its inputs, which the last register
            // alone may not reach (r0 = tanh in0 with a larger in1)
            return b.expandTo(regs.back(), n.outputs[0].shape);
        }
#define ADJ_FAMILY_CASE_Elementwise(id)
#define ADJ_FAMILY_CASE_Norm(id)
#define ADJ_FAMILY_CASE_Fused(id)
#include "ir/op_family_cases.inc"
            break;
    }
    throw GraphError("op '" + std::string(opName(n.op)) + "' (node '" + n.name + "') has no decomposition");
}

}  // namespace adj
