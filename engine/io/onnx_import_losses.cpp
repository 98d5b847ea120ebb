// ONNX NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss as compositions of the table's ops.
// The class picked by each target is a one-hot mask made by comparing the targets (an INT64 graph
// input through to_float, or integers known while importing) with the class numbers:
//     onehot[n, c, d...] = (target[n, d...] == c) * classWeight[c]
//     loss[n, d...]      = -sum_c input[n, c, d...] * onehot[n, c, d...]
// classWeight is the `weight` input (1 without it) with the ignore_index class zeroed; a target
// equal to ignore_index outside [0, C) matches no class, so its loss and weight are 0 as well.
// Reduction mean divides the summed loss by the summed weights of the targets (their count when
// unweighted), as ONNX defines it. Differentiable in the input (and the weights); the targets
// carry no derivative.
#include "io/onnx_import_ops.h"

namespace adj::onnx_io::ops {

namespace {

/// The NLL loss of log-probabilities `logp` [N, C, d...] at the targets of input `targetIndex`,
/// with the class weights of input `weightIndex` (when given), reduced as `reduction` says.
ValueRef nllLoss(Importer& I, ValueRef logp, int targetIndex, int weightIndex, const std::string& stem) {
    const std::string reduction = I.attrString("reduction", "mean");
    if (reduction != "none" && reduction != "sum" && reduction != "mean")
        I.fail("reduction '" + reduction + "' is not none, sum or mean");
    const Shape xs = I.staticShape(logp, "an input");
    if (xs.size() < 2) I.fail("the input must have at least 2 dimensions [N, C, ...], got " + shapeToString(xs));
    const std::int64_t classes = xs[1];
    if (classes > (std::int64_t(1) << 20)) I.fail("more than 2^20 classes are not supported");

    const ValueRef target = I.fin(targetIndex);  // [N, d...] as float (exact below 2^24)
    Shape want = xs;
    want.erase(want.begin() + 1);
    if (I.shapeOf(target) != want) I.fail("the target has shape " + shapeToString(I.shapeOf(target)) + ", the input " + shapeToString(xs) + " needs " + shapeToString(want));

    // the class weights along axis 1: [1, C, 1, ...]
    Shape classShape(xs.size(), 1);
    classShape[1] = classes;
    std::vector<float> keep(static_cast<std::size_t>(classes), 1.f);
    if (const auto* ig = I.attr("ignore_index")) {
        const std::int64_t ignore = ig->i();
        if (ignore >= 0 && ignore < classes) keep[std::size_t(ignore)] = 0.f;
    }
    const ValueRef targetAxis = I.emit(Op::Unsqueeze, {target}, {{"axes", Ints{1}}}, stem + "/target");
    const ValueRef onehot = equalsClassNumbers(I, targetAxis, 1, classes, stem + "/onehot");
    ValueRef classWeight = I.constantNode(Tensor::fromVector(classShape, keep), stem + "/kept");
    if (weightIndex >= 0 && I.has(weightIndex)) {
        const ValueRef w = I.fin(weightIndex);
        if (I.shapeOf(w) != Shape{classes}) I.fail("the weight has shape " + shapeToString(I.shapeOf(w)) + ", not [" + std::to_string(classes) + "]");
        classWeight = I.emit(Op::Mul, {classWeight, I.emit(Op::Reshape, {w}, {{"shape", Ints(classShape.begin(), classShape.end())}}, stem + "/weight")}, {}, stem + "/class_weight");
    }
    const ValueRef picked = I.emit(Op::Mul, {onehot, classWeight}, {}, stem + "/picked");  // [N, C, d...]
    const ValueRef loss = I.emit(Op::Neg, {I.emit(Op::Sum, {I.emit(Op::Mul, {logp, picked}, {}, stem + "/selected")}, {{"axes", Ints{1}}, {"keepdims", std::int64_t(0)}}, stem + "/sum_classes")}, {},
                                 reduction == "none" ? stem : stem + "/loss");
    if (reduction == "none") return loss;
    const ValueRef total = I.emit(Op::Sum, {loss}, {}, reduction == "sum" ? stem : stem + "/total");
    if (reduction == "sum") return total;
    return I.emit(Op::Div, {total, I.emit(Op::Sum, {picked}, {}, stem + "/weight_total")}, {}, stem);
}

}  // namespace

void nllLossOp(Importer& I) {
    I.bindFloat(I.out(), nllLoss(I, I.fin(0), 1, 2, I.out()));
}

void softmaxCrossEntropyLoss(Importer& I) {
    const ValueRef scores = I.fin(0);
    if (I.shapeOf(scores).size() < 2) I.fail("the scores must have at least 2 dimensions [N, C, ...]");
    const bool wantLogProb = I.outputUsed(1);
    const std::string logName = wantLogProb ? I.out(1) : I.out() + "/log_prob";
    const ValueRef logp = I.emit(Op::LogSoftmax, {scores}, {{"axis", std::int64_t(1)}}, logName);
    I.bindFloat(I.out(), nllLoss(I, logp, 1, 2, I.out()));
    if (wantLogProb) I.bindFloat(I.out(1), logp);
}

}  // namespace adj::onnx_io::ops
