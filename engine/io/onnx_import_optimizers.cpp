// Handlers of the optimizers of ONNX's training domain (ai.onnx.preview.training, version 1), each
// one update step written with the table's elementwise ops, for any number of tensors
// (inputs R, T, then the tensors X..., their gradients G..., and the optimizer's state):
//   Adagrad   r = R / (1 + T decay); g = norm X + G; H' = H + g^2; X' = X - r g / (sqrt(H') + eps)
//   Momentum  g = norm X + G; V' = alpha V + b g (b = beta, or 1 at T = 0);
//             X' = X - R V' (standard) or X - R (g + alpha V') (nesterov)
//   Adam      g = norm X + G; V' = alpha V + (1 - alpha) g; H' = beta H + (1 - beta) g^2;
//             r = R sqrt(1 - beta^T) / (1 - alpha^T) (R at T = 0);
//             X' = (1 - post) (X - r V' / (sqrt(H') + eps))
// R is a float value of the graph; T, the step count, must be known while importing (a constant
// or an input given to `run`), as it picks a form of the update.
#include <cmath>

#include "io/onnx_import_ops.h"

namespace adj::onnx_io::ops {

namespace {

struct Step {
    Importer& I;
    int tensors = 0;     // n: inputs are R, T, X1..Xn, G1..Gn, then the state, n each
    std::int64_t t = 0;  // the step count

    ValueRef scalar(double v, const std::string& what, int k) const {
        return I.constantNode(Tensor::scalar(float(v)), I.out(k) + "/" + what);
    }
    ValueRef op(Op o, std::vector<ValueRef> ins, int k, const std::string& what) const { return I.emit(o, std::move(ins), {}, I.out(k) + "/" + what); }
    ValueRef in(int group, int k) const { return I.fin(2 + group * tensors + k); }
    /// norm X + G, the gradient with its L2 regularization.
    ValueRef regularized(int k, double norm) const {
        return op(Op::Add, {op(Op::Mul, {scalar(norm, "norm_coefficient", k), in(0, k)}, k, "decay"), in(1, k)}, k, "g");
    }
};

Step begin(Importer& I, int stateGroups, const std::string& layout) {
    const int n = I.numInputs() - 2;
    if (n <= 0 || n % (2 + stateGroups) != 0)
        I.fail("takes R, T and then " + layout + " for each tensor (" + std::to_string(2 + stateGroups) + " per tensor); got " + std::to_string(I.numInputs()) + " inputs");
    Step s{I, n / (2 + stateGroups), 0};
    if (I.node().output_size() != s.tensors * (1 + stateGroups))
        I.fail("has " + std::to_string(I.node().output_size()) + " outputs for " + std::to_string(s.tensors) + " tensors (" + std::to_string(1 + stateGroups) + " each)");
    const double t = I.constScalar(1, "T (the step count)");
    s.t = std::int64_t(t);
    return s;
}

}  // namespace

void adagrad(Importer& I) {
    Step s = begin(I, 1, "X, G, H");
    const double decay = I.attrFloat("decay_factor", 0), eps = I.attrFloat("epsilon", 1e-6), norm = I.attrFloat("norm_coefficient", 0);
    for (int k = 0; k < s.tensors; ++k) {
        const ValueRef rate = s.op(Op::Div, {I.fin(0), s.scalar(1.0 + double(s.t) * decay, "decayed", k)}, k, "rate");
        const ValueRef g = s.regularized(k, norm);
        const ValueRef h = s.op(Op::Add, {s.in(2, k), s.op(Op::Mul, {g, g}, k, "g_squared")}, k, "h_sum");
        const ValueRef adaptive = s.op(Op::Add, {s.op(Op::Sqrt, {h}, k, "h_root"), s.scalar(eps, "epsilon", k)}, k, "adaptive");
        const ValueRef step = s.op(Op::Div, {s.op(Op::Mul, {rate, g}, k, "scaled"), adaptive}, k, "step");
        I.bindFloat(I.out(k), s.op(Op::Sub, {s.in(0, k), step}, k, "x_new"));
        I.bindFloat(I.out(s.tensors + k), h);
    }
}

void momentum(Importer& I) {
    Step s = begin(I, 1, "X, G, V");
    const double alpha = I.attrFloat("alpha", 0), beta = I.attrFloat("beta", 0), norm = I.attrFloat("norm_coefficient", 0);
    const std::string mode = I.attrString("mode", "");
    if (mode != "standard" && mode != "nesterov") I.fail("mode '" + mode + "' is not standard or nesterov");
    for (int k = 0; k < s.tensors; ++k) {
        const ValueRef g = s.regularized(k, norm);
        const ValueRef v = s.op(Op::Add, {s.op(Op::Mul, {s.scalar(alpha, "alpha", k), s.in(2, k)}, k, "kept"),
                                          s.op(Op::Mul, {s.scalar(s.t > 0 ? beta : 1.0, "beta", k), g}, k, "added")},
                                k, "v_new");
        const ValueRef direction = mode == "standard" ? v : s.op(Op::Add, {g, s.op(Op::Mul, {s.scalar(alpha, "alpha_ahead", k), v}, k, "ahead")}, k, "direction");
        I.bindFloat(I.out(k), s.op(Op::Sub, {s.in(0, k), s.op(Op::Mul, {I.fin(0), direction}, k, "step")}, k, "x_new"));
        I.bindFloat(I.out(s.tensors + k), v);
    }
}

void adam(Importer& I) {
    Step s = begin(I, 2, "X, G, V, H");
    const double alpha = I.attrFloat("alpha", 0.9), beta = I.attrFloat("beta", 0.999), eps = I.attrFloat("epsilon", 1e-6);
    const double norm = I.attrFloat("norm_coefficient", 0), post = I.attrFloat("norm_coefficient_post", 0);
    const double correction = s.t > 0 ? std::sqrt(1.0 - std::pow(beta, double(s.t))) / (1.0 - std::pow(alpha, double(s.t))) : 1.0;
    for (int k = 0; k < s.tensors; ++k) {
        const ValueRef g = s.regularized(k, norm);
        const ValueRef v = s.op(Op::Add, {s.op(Op::Mul, {s.scalar(alpha, "alpha", k), s.in(2, k)}, k, "v_kept"),
                                          s.op(Op::Mul, {s.scalar(1.0 - alpha, "one_minus_alpha", k), g}, k, "v_added")},
                                k, "v_new");
        const ValueRef h = s.op(Op::Add, {s.op(Op::Mul, {s.scalar(beta, "beta", k), s.in(3, k)}, k, "h_kept"),
                                          s.op(Op::Mul, {s.scalar(1.0 - beta, "one_minus_beta", k), s.op(Op::Mul, {g, g}, k, "g_squared")}, k, "h_added")},
                                k, "h_new");
        const ValueRef root = s.op(Op::Add, {s.op(Op::Sqrt, {h}, k, "h_root"), s.scalar(eps, "epsilon", k)}, k, "h_sqrt");
        const ValueRef rate = s.op(Op::Mul, {I.fin(0), s.scalar(correction, "bias_correction", k)}, k, "rate");
        const ValueRef x = s.op(Op::Sub, {s.in(0, k), s.op(Op::Mul, {rate, s.op(Op::Div, {v, root}, k, "ratio")}, k, "step")}, k, "x_new");
        I.bindFloat(I.out(k), post != 0 ? s.op(Op::Mul, {s.scalar(1.0 - post, "post_decay", k), x}, k, "x_final") : x);
        I.bindFloat(I.out(s.tensors + k), v);
        I.bindFloat(I.out(2 * s.tensors + k), h);
    }
}

}  // namespace adj::onnx_io::ops
