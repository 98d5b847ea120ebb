#include "train/optimizers.h"

#include <cmath>

#include "base/errors.h"

namespace adj::train {

std::string optimizerName(OptimizerKind kind) {
    switch (kind) {
        case OptimizerKind::Sgd: return "sgd";
        case OptimizerKind::Momentum: return "momentum";
        case OptimizerKind::Adam: return "adam";
    }
    return {};
}

std::optional<OptimizerKind> parseOptimizerKind(const std::string& name) {
    for (OptimizerKind k : {OptimizerKind::Sgd, OptimizerKind::Momentum, OptimizerKind::Adam})
        if (optimizerName(k) == name) return k;
    return std::nullopt;
}

std::vector<std::string> optimizerStateSlots(OptimizerKind kind) {
    switch (kind) {
        case OptimizerKind::Sgd: return {};
        case OptimizerKind::Momentum: return {"velocity"};
        case OptimizerKind::Adam: return {"m", "v"};
    }
    return {};
}

UpdateOutputs addUpdate(GraphBuilder& b, const OptimizerConfig& c, const UpdateInputs& in) {
    if (in.state.size() != optimizerStateSlots(c.kind).size()) throw GraphError("optimizer " + optimizerName(c.kind) + ": wrong number of state values");
    ValueRef g = in.grad;
    if (c.weightDecay != 0.0f) g = b.op(Op::Add, {g, b.op(Op::Mul, {b.constant(c.weightDecay, "weight_decay"), in.param}, {}, "decay")}, {}, "grad_decayed");
    UpdateOutputs out;
    switch (c.kind) {
        case OptimizerKind::Sgd: {
            ValueRef delta = b.op(Op::Mul, {in.learningRate, g}, {}, "lr_times_grad");
            out.newParam = b.op(Op::Sub, {in.param, delta}, {}, "new");
            break;
        }
        case OptimizerKind::Momentum: {
            ValueRef v = b.op(Op::Add, {b.op(Op::Mul, {b.constant(c.momentum, "mu"), in.state[0]}, {}, "mu_v"), g}, {}, "velocity");
            ValueRef delta = b.op(Op::Mul, {in.learningRate, v}, {}, "lr_times_velocity");
            out.newParam = b.op(Op::Sub, {in.param, delta}, {}, "new");
            out.newState = {v};
            break;
        }
        case OptimizerKind::Adam: {
            ValueRef m = b.op(Op::Add,
                              {b.op(Op::Mul, {b.constant(c.beta1, "beta1"), in.state[0]}, {}, "beta1_m"),
                               b.op(Op::Mul, {b.constant(1.0f - c.beta1, "one_minus_beta1"), g}, {}, "g_part")},
                              {}, "m");
            ValueRef g2 = b.op(Op::Mul, {g, g}, {}, "g_squared");
            ValueRef v = b.op(Op::Add,
                              {b.op(Op::Mul, {b.constant(c.beta2, "beta2"), in.state[1]}, {}, "beta2_v"),
                               b.op(Op::Mul, {b.constant(1.0f - c.beta2, "one_minus_beta2"), g2}, {}, "g2_part")},
                              {}, "v");
            // bias corrections 1 - beta^t, from the step input
            ValueRef one = b.constant(1.0f, "one");
            ValueRef bc1 = b.op(Op::Sub, {one, b.op(Op::Pow, {b.constant(c.beta1, "beta1_base"), in.step}, {}, "beta1_pow_t")}, {}, "bias_correction1");
            ValueRef bc2 = b.op(Op::Sub, {one, b.op(Op::Pow, {b.constant(c.beta2, "beta2_base"), in.step}, {}, "beta2_pow_t")}, {}, "bias_correction2");
            ValueRef stepSize = b.op(Op::Div, {in.learningRate, bc1}, {}, "step_size");
            ValueRef denom = b.op(Op::Add,
                                  {b.op(Op::Div, {b.op(Op::Sqrt, {v}, {}, "sqrt_v"), b.op(Op::Sqrt, {bc2}, {}, "sqrt_bias_correction2")}, {}, "v_hat_sqrt"),
                                   b.constant(c.epsilon, "epsilon")},
                                  {}, "denominator");
            ValueRef delta = b.op(Op::Mul, {stepSize, b.op(Op::Div, {m, denom}, {}, "m_over_denominator")}, {}, "delta");
            out.newParam = b.op(Op::Sub, {in.param, delta}, {}, "new");
            out.newState = {m, v};
            break;
        }
    }
    return out;
}

}  // namespace adj::train
