#include "train/losses.h"

#include "base/errors.h"

namespace adj::train {

std::string lossName(LossKind kind) {
    switch (kind) {
        case LossKind::CrossEntropy: return "cross-entropy";
        case LossKind::MeanSquaredError: return "mse";
        case LossKind::BinaryCrossEntropy: return "binary-cross-entropy";
    }
    return {};
}

std::optional<LossKind> parseLossKind(const std::string& name) {
    for (LossKind k : {LossKind::CrossEntropy, LossKind::MeanSquaredError, LossKind::BinaryCrossEntropy})
        if (lossName(k) == name) return k;
    if (name == "bce") return LossKind::BinaryCrossEntropy;
    return std::nullopt;
}

ValueRef addLoss(GraphBuilder& b, LossKind kind, ValueRef prediction, ValueRef target) {
    if (b.shape(prediction) != b.shape(target))
        throw GraphError("loss: prediction " + shapeToString(b.shape(prediction)) + " and target " + shapeToString(b.shape(target)) +
                         " differ in shape");
    if (b.rank(prediction) < 1) throw GraphError("loss: the prediction must have a batch dimension");
    switch (kind) {
        case LossKind::CrossEntropy: {
            if (b.rank(prediction) != 2) throw GraphError("cross-entropy: logits must be [N, K], got " + shapeToString(b.shape(prediction)));
            ValueRef logp = b.op(Op::LogSoftmax, {prediction}, {{"axis", std::int64_t(1)}}, "log_softmax");
            ValueRef picked = b.op(Op::Mul, {target, logp}, {}, "picked");
            ValueRef nll = b.op(Op::Sum, {picked}, {{"axes", std::vector<std::int64_t>{1}}}, "log_likelihood");
            ValueRef perExample = b.op(Op::Neg, {nll}, {}, "per_example");
            return b.op(Op::Mean, {perExample}, {}, "loss");
        }
        case LossKind::MeanSquaredError: {
            ValueRef d = b.op(Op::Sub, {prediction, target}, {}, "error");
            ValueRef sq = b.op(Op::Mul, {d, d}, {}, "squared");
            return b.op(Op::Mean, {sq}, {}, "loss");
        }
        case LossKind::BinaryCrossEntropy: {
            ValueRef pos = b.op(Op::Relu, {prediction}, {}, "relu_z");
            ValueRef zy = b.op(Op::Mul, {prediction, target}, {}, "z_times_y");
            ValueRef absz = b.op(Op::Abs, {prediction}, {}, "abs_z");
            ValueRef e = b.op(Op::Exp, {b.op(Op::Neg, {absz}, {}, "neg_abs_z")}, {}, "exp_neg_abs_z");
            ValueRef softplus = b.op(Op::Log, {b.op(Op::Add, {b.constant(1.0f, "one"), e}, {}, "one_plus")}, {}, "log1p_exp");
            ValueRef perElement = b.op(Op::Add, {b.op(Op::Sub, {pos, zy}, {}, "relu_minus_zy"), softplus}, {}, "per_element");
            return b.op(Op::Mean, {perElement}, {}, "loss");
        }
    }
    throw GraphError("unknown loss");
}

double accuracy(const Tensor& predictionsIn, const std::vector<int>& labels) {
    const Tensor p = predictionsIn.contiguous();
    if (labels.empty() || p.rank() != 2 || p.shape()[0] != std::int64_t(labels.size())) return 0.0;
    const std::int64_t n = p.shape()[0], k = p.shape()[1];
    std::int64_t correct = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const float* row = p.data() + i * k;
        int pick = 0;
        if (k == 1) {
            pick = row[0] > 0.0f ? 1 : 0;
        } else {
            for (std::int64_t j = 1; j < k; ++j)
                if (row[j] > row[pick]) pick = int(j);
        }
        correct += pick == labels[std::size_t(i)];
    }
    return double(correct) / double(n);
}

}  // namespace adj::train
