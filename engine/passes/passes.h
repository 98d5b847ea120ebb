#pragma once
// The rewrite passes, one file each (docs/REWRITES.md describes every rule). Each pass is a rule
// set run by the Rewriter to a fixed point, or (dead code elimination) one sweep.
#include <cstdint>

#include "passes/rewriter.h"

namespace adj {

/// constant_folding.cpp: a node whose inputs are all constants is evaluated with the CPU kernels
/// and becomes a constant, when its outputs hold at most `maxElements` values.
inline constexpr std::int64_t kFoldMaxElements = 1 << 16;
RuleSet constantFoldingRules(std::int64_t maxElements = kFoldMaxElements);

/// algebraic.cpp: x*1, 1*x, x+0, 0+x, x-0, x/1 -> x (when the constant does not broadcast x);
/// neg(neg x), exp(log x), log(exp x) -> x; transpose(transpose x) -> one transpose or x;
/// identity transposes and reshapes -> x; reshape(reshape x) -> reshape x.
RuleSet algebraicRules();
/// The transpose rules of algebraicRules alone: transpose(transpose x) composed, identity removed.
RuleSet transposeCompositionRules();

/// cse.cpp: nodes with the same op, attributes and inputs (commutative inputs sorted; constants
/// by value) are merged into the first one seen.
RuleSet cseRules();

/// dce.cpp: removes every node the outputs do not need (graph inputs and parameters stay).
void runDeadCodeElimination(Rewriter& rewriter);

/// conv_bn_fold.cpp: inference batchnorm after conv2d (whose output has no other use), with
/// constant or parameter weights and statistics: new conv weights and bias, the batchnorm gone.
RuleSet convBnFoldRules();

/// parallel_matmul.cpp: linear layers of one x with 2-D source weights, all matmul(x, Wi) [+ bi]
/// or all gemm(x, Wi, [ci]) with one transB -> one layer over the weights side by side and a split
/// of its output. Weights and biases that are constants or parameters are concatenated once, into
/// a new parameter when any was one (else a constant); the biases merge when every layer has one.
RuleSet parallelMatmulRules();

/// op_recognition.cpp: what exporters write in place of an op becomes the op: the erf formula of
/// GELU -> gelu(x); (x - mean x) / sqrt(mean (x - mean x)^2 + eps) over trailing axes ->
/// layernorm(x), then its * scale and + shift of the normalized shape -> its second and third input.
RuleSet opRecognitionRules();

/// transpose_sinking.cpp: moves transposes through elementwise ops toward the outputs
/// (u(T x) -> T u(x); op(T a, T b) -> T op(a, b); op(T a, scalar) -> T op(a, scalar)) so that
/// they meet and cancel (with the transpose rules of algebraicRules, included here).
RuleSet transposeSinkingRules();

/// fusion.cpp: groups of elementwise ops (chains, and diamonds whose intermediates are used only
/// inside the group) become one `fused` node; every pair of neighbours left apart gets a note
/// with the reason (RewriteTrace::fusionNotes).
RuleSet fusionRules();

}  // namespace adj
