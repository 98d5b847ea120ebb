// The ONNX importer's handler table: each ONNX op (default domain) to its handler
// (onnx_import_ops.h); the elementwise ops of the op table are added from their ONNX names.
#include "io/onnx_import_ops.h"
#include "ir/element_types.h"

#include <map>
#include <string>
#include "base/errors.h"
#include "io/onnx_importer.h"

namespace adj::onnx_io {

namespace {

using namespace ops;

Importer::Handler un(Op op) { return [op](Importer& I) { unary(I, op); }; }
Importer::Handler ew(Op op, char intOp) { return [op, intOp](Importer& I) { elementwise(I, op, intOp); }; }

}  // namespace

const std::map<std::string, Importer::Handler>& Importer::handlers() {
    static const std::map<std::string, Handler> table = [] {
      std::map<std::string, Handler> t = {
        // elementwise ops that also compute on integer tensors, or map otherwise than one to one;
        // the other elementwise ops of the table are added below from their ONNX names
        {"Neg", un(Op::Neg)}, {"Abs", un(Op::Abs)}, {"Sign", un(Op::Sign)}, {"Reciprocal", reciprocal},
        {"Add", ew(Op::Add, '+')}, {"Sub", ew(Op::Sub, '-')}, {"Mul", ew(Op::Mul, '*')}, {"Div", ew(Op::Div, '/')}, {"Pow", ew(Op::Pow, 0)},
        {"Mod", mod},
        {"Max", [](Importer& I) { variadic(I, Op::Maximum, 'M'); }},
        {"Min", [](Importer& I) { variadic(I, Op::Minimum, 'm'); }},
        {"Sum", [](Importer& I) { variadic(I, Op::Add, '+'); }},
        {"Clip", clip},
        {"Where", where},
        {"Greater", [](Importer& I) { compare(I, '>'); }}, {"Less", [](Importer& I) { compare(I, '<'); }},
        {"Equal", [](Importer& I) { compare(I, '='); }}, {"GreaterOrEqual", [](Importer& I) { compare(I, 'g'); }},
        {"LessOrEqual", [](Importer& I) { compare(I, 'l'); }},
        {"Not", [](Importer& I) { logical(I, 'n'); }}, {"And", [](Importer& I) { logical(I, '&'); }}, {"Or", [](Importer& I) { logical(I, '|'); }},
        {"Xor", [](Importer& I) { logical(I, '^'); }}, {"IsNaN", isNaN}, {"IsInf", isInf},
        // linear algebra, normalization
        {"MatMul", [](Importer& I) {
             std::optional<DType> type = I.integerInputs();  // f64 products in double
             if (type && !computesIn(Op::MatMul, *type)) type.reset();
             I.bindData(I.out(), I.emit(Op::MatMul, {I.numIn(0, type), I.numIn(1, type)}, {}, I.out()));
         }},
        {"Gemm", gemm},
        {"Einsum", einsum},
        {"ArgMax", [](Importer& I) { argExtreme(I, Op::ArgMax); }}, {"ArgMin", [](Importer& I) { argExtreme(I, Op::ArgMin); }},
        {"LSTM", [](Importer& I) { recurrent(I, 'l'); }}, {"GRU", [](Importer& I) { recurrent(I, 'g'); }},
        {"RNN", [](Importer& I) { recurrent(I, 'r'); }},
        {"Resize", resize},
        {"Softmax", [](Importer& I) { softmax(I, Op::Softmax); }},
        {"LogSoftmax", [](Importer& I) { softmax(I, Op::LogSoftmax); }},
        {"ReduceSum", [](Importer& I) { reduce(I, Op::Sum); }},
        {"ReduceMean", [](Importer& I) { reduce(I, Op::Mean); }},
        {"ReduceMax", [](Importer& I) { reduce(I, Op::Max); }},
        {"ReduceL1", [](Importer& I) { reduceComposite(I, '1'); }},
        {"ReduceL2", [](Importer& I) { reduceComposite(I, '2'); }},
        {"ReduceSumSquare", [](Importer& I) { reduceComposite(I, 's'); }},
        {"ReduceLogSum", [](Importer& I) { reduceComposite(I, 'l'); }},
        {"ReduceLogSumExp", [](Importer& I) { reduceComposite(I, 'e'); }},
        {"ReduceMin", [](Importer& I) { reduceComposite(I, 'm'); }},
        {"ReduceProd", [](Importer& I) { reduceComposite(I, 'p'); }},
        {"Mean", mean},
        // activations read as compositions of the table's elementwise ops
        {"Softsign", [](Importer& I) { activationComposite(I, "Softsign"); }},
        {"ThresholdedRelu", [](Importer& I) { activationComposite(I, "ThresholdedRelu"); }},
        {"Shrink", [](Importer& I) { activationComposite(I, "Shrink"); }},
        {"PRelu", [](Importer& I) { activationComposite(I, "PRelu"); }},
        {"Celu", [](Importer& I) { activationComposite(I, "Celu"); }},
        {"Sinh", [](Importer& I) { activationComposite(I, "Sinh"); }}, {"Cosh", [](Importer& I) { activationComposite(I, "Cosh"); }},
        {"Tan", [](Importer& I) { activationComposite(I, "Tan"); }}, {"Asinh", [](Importer& I) { activationComposite(I, "Asinh"); }},
        {"Acosh", [](Importer& I) { activationComposite(I, "Acosh"); }}, {"Atanh", [](Importer& I) { activationComposite(I, "Atanh"); }},
        {"BatchNormalization", batchNorm},
        {"LayerNormalization", layerNorm},
        {"InstanceNormalization", instanceNorm},
        {"MeanVarianceNormalization", meanVarianceNorm},
        {"DepthToSpace", [](Importer& I) { depthSpace(I, true); }},
        {"SpaceToDepth", [](Importer& I) { depthSpace(I, false); }},
        // layers
        {"Conv", conv}, {"ConvTranspose", convTranspose},
        {"MaxPool", [](Importer& I) { pool(I, Op::MaxPool); }},
        {"AveragePool", [](Importer& I) { pool(I, Op::AvgPool); }},
        {"GlobalAveragePool", [](Importer& I) { I.bindFloat(I.out(), I.emit(Op::GlobalAvgPool, {I.fin(0)}, {}, I.out())); }},
        {"GlobalMaxPool", globalMaxPool},
        // data movement
        {"Reshape", reshape}, {"Expand", expand}, {"Flatten", flatten}, {"Transpose", transpose}, {"Squeeze", squeeze},
        {"Unsqueeze", unsqueeze}, {"Concat", concat}, {"Split", split}, {"Slice", slice}, {"Gather", gather}, {"Pad", pad},
        {"ScatterND", scatterND}, {"GatherElements", gatherElements}, {"Tile", tile}, {"GatherND", gatherND}, {"ScatterElements", scatterElements}, {"Scatter", scatterElements},
        // losses
        {"NegativeLogLikelihoodLoss", nllLossOp}, {"SoftmaxCrossEntropyLoss", softmaxCrossEntropyLoss},
        // constant masks and matrices
        {"Hardmax", hardmax}, {"Trilu", trilu}, {"CumSum", cumSum}, {"EyeLike", eyeLike}, {"OneHot", oneHot}, {"TopK", topK},
        // values
        {"Identity", identity}, {"Dropout", dropout}, {"Constant", constant}, {"ConstantOfShape", constantOfShape},
        {"Cast", cast}, {"CastLike", castLike}, {"BitShift", bitShift}, {"QuantizeLinear", quantizeLinear}, {"Upsample", upsample}, {"Compress", compress}, {std::string(kTrainingDomain) + ".Adagrad", adagrad}, {std::string(kTrainingDomain) + ".Momentum", momentum},
        {std::string(kTrainingDomain) + ".Adam", adam}, {"NonZero", nonZero}, {"LRN", lrn}, {"DequantizeLinear", dequantizeLinear},
        {"DynamicQuantizeLinear", dynamicQuantizeLinear}, {"MatMulInteger", matMulInteger}, {"QLinearMatMul", qLinearMatMul},
        {"ConvInteger", convInteger}, {"QLinearConv", qLinearConv}, {"HannWindow", [](Importer& I) { window(I, 'h'); }}, {"HammingWindow", [](Importer& I) { window(I, 'm'); }},
        {"BlackmanWindow", [](Importer& I) { window(I, 'b'); }}, {"Shape", shapeOp}, {"Size", sizeOp}, {"Range", range}, {"If", ifOp},
      };
      for (const OpInfo& info : allOps())
          if (info.family == OpFamily::Elementwise && !info.onnx.empty() && !t.count(std::string(info.onnx)))
              t.emplace(std::string(info.onnx), [op = info.op](Importer& I) { tableOp(I, op); });
      return t;
    }();
    return table;
}

}  // namespace adj::onnx_io
