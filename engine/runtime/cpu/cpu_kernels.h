#pragma once
// CPU kernels, one per op (the op table's CPU trait). Every kernel accepts non-contiguous
// inputs (any strides, including stride 0 from broadcasting) and parallelises with TBB.
#include <vector>

#include "ir/graph.h"
#include "tensor/tensor.h"

namespace adj::cpu {

struct KernelCall {
    const Node& node;
    std::vector<Tensor> inputs;       // possibly non-contiguous views
    std::vector<ValueType> outTypes;  // inferred from the actual input shapes
    std::vector<Tensor> outputs;      // filled by the kernel: fresh tensors or views of inputs
    /// The executor's planned buffers for the outputs, by port: contiguous views of its arena,
    /// undefined where a value has none; nullptr when the run is not planned. Kernels take them
    /// through newOutput/filledOutput; a kernel that returns a view or a fresh tensor instead
    /// still works (the planned buffer then goes unused).
    const std::vector<Tensor>* planned = nullptr;
};

/// Output `i` for a kernel to write every element of, stored as call.outputs[i] (resized as
/// needed), of the element type call.outTypes[i] names: the planned buffer when the executor gave
/// one of exactly `shape` and that type, else a fresh uninitialised tensor. The reference stays valid until call.outputs is resized.
Tensor& newOutput(KernelCall& call, std::size_t i, const Shape& shape);
/// newOutput with every element set to `value` (for kernels that accumulate).
Tensor& filledOutput(KernelCall& call, std::size_t i, const Shape& shape, float value);

/// Runs the kernel of call.node.op. Throws adj::Error naming the node on a run-time problem.
void runKernel(KernelCall& call);

// One function per kernel family of ops.def (OpFamily), called by runKernel.
void elementwiseKernel(KernelCall& call);  // kernels_elementwise.cpp
/// The elementwise ops that take integer or bool values (ir/element_types.h); kernels_integer.cpp.
void integerElementwiseKernel(KernelCall& call);
/// f64, f16 and bf16 values (ir/element_types.h): whether this call is one (its first input of
/// such a type, an op that computes in it), and the kernel that runs it; kernels_float_types.cpp.
bool runsFloatTypesKernel(const KernelCall& call);
void floatTypesKernel(KernelCall& call);
void matmulKernel(KernelCall& call);       // kernels_matmul.cpp (MatMul, Gemm)
void reductionKernel(KernelCall& call);    // kernels_reduce.cpp (Sum, Mean, Max, Softmax, LogSoftmax)
void viewKernel(KernelCall& call);         // kernels_movement.cpp (reshape, transpose, slice, ...: views)
void copyKernel(KernelCall& call);         // kernels_movement.cpp (concat, pad)
void indexKernel(KernelCall& call);        // kernels_index.cpp (gather, gather_grad)
void convKernel(KernelCall& call);         // kernels_conv.cpp (Conv2d)
void poolKernel(KernelCall& call);         // kernels_pool.cpp (MaxPool, AvgPool, GlobalAvgPool)
void normKernel(KernelCall& call);         // kernels_norm.cpp (BatchNorm, LayerNorm)
void derivativeKernel(KernelCall& call);   // kernels_derivative.cpp (the *_grad ops of backward graphs)
void fusedKernel(KernelCall& call);        // kernels_fused.cpp (a fusion group as one kernel)

/// o[j] = op(a[0][j], a[1][j], ...) for j < n over contiguous arrays (an elementwise op of the
/// table): the inner loop of fused groups and of contiguous elementwise kernels, compiled for
/// AVX2 as well and chosen at load time (kernels_fused.cpp).
void applyElementwise(const Node& node, Op op, const EwParams& params, float* o, const float* const* a, std::int64_t n);

}  // namespace adj::cpu
