#include <algorithm>
#include <stdexcept>
#include <string>

#include "runtime/cpu/cpu_kernels.h"
#include "runtime/cpu/kernel_util.h"

namespace adj::cpu {

namespace {

void checkCall(const KernelCall& call) {
    const Node& n = call.node;
    const OpInfo& info = opInfo(n.op);
    const int count = int(call.inputs.size());
    if (count < info.minInputs || (info.maxInputs >= 0 && count > info.maxInputs))
        detail::fail(n, "got " + std::to_string(count) + " inputs");
    for (int i = 0; i < info.minInputs; ++i) {
        if (!call.inputs[std::size_t(i)].defined()) detail::fail(n, "input " + std::to_string(i) + " is undefined");
        if (call.inputs[std::size_t(i)].dtype() != DType::F32) detail::fail(n, "input " + std::to_string(i) + " is not float32");
    }
    if (call.outTypes.empty()) detail::fail(n, "no output types were given");
}

}  // namespace

Tensor& newOutput(KernelCall& call, std::size_t i, const Shape& shape) {
    if (call.outputs.size() <= i) call.outputs.resize(i + 1);
    Tensor& out = call.outputs[i];
    if (call.planned && i < call.planned->size() && (*call.planned)[i].defined() && (*call.planned)[i].shape() == shape)
        out = (*call.planned)[i];
    else
        out = Tensor::empty(shape);
    return out;
}

Tensor& filledOutput(KernelCall& call, std::size_t i, const Shape& shape, float value) {
    Tensor& out = newOutput(call, i, shape);
    std::fill_n(out.data(), out.numel(), value);
    return out;
}

void runKernel(KernelCall& call) {
    const Node& n = call.node;
    if (!isSource(n.op)) checkCall(call);
    try {
        switch (n.op) {
        case Op::Input:
        case Op::Parameter:
        case Op::Constant:
            throw std::logic_error(detail::nodePrefix(n) + "source nodes are handled by the executor");
        case Op::Neg:
        case Op::Abs:
        case Op::Exp:
        case Op::Log:
        case Op::Sqrt:
        case Op::Sin:
        case Op::Cos:
        case Op::Tanh:
        case Op::Sigmoid:
        case Op::Relu:
        case Op::Gelu:
        case Op::Erf:
        case Op::Add:
        case Op::Sub:
        case Op::Mul:
        case Op::Div:
        case Op::Pow:
        case Op::Maximum:
        case Op::Minimum:
        case Op::Where:
        case Op::Greater:
        case Op::Equal:
        case Op::Sign:
            elementwiseKernel(call);
            return;
        case Op::Fused:
            fusedKernel(call);
            return;
        case Op::MatMul:
        case Op::Gemm:
            matmulKernel(call);
            return;
        case Op::Sum:
        case Op::Mean:
        case Op::Max:
        case Op::Softmax:
        case Op::LogSoftmax:
            reductionKernel(call);
            return;
        case Op::Reshape:
        case Op::Transpose:
        case Op::Flatten:
        case Op::Squeeze:
        case Op::Unsqueeze:
        case Op::Expand:
        case Op::Slice:
        case Op::Concat:
        case Op::Split:
            movementKernel(call);
            return;
        case Op::Conv2d:
            convKernel(call);
            return;
        case Op::MaxPool:
        case Op::AvgPool:
        case Op::GlobalAvgPool:
            poolKernel(call);
            return;
        case Op::Pad:
        case Op::Conv2dGradInput:
        case Op::Conv2dGradWeight:
        case Op::MaxPoolGrad:
        case Op::MaxPoolSelect:
        case Op::AvgPoolGrad:
            derivativeKernel(call);
            return;
        case Op::BatchNorm:
        case Op::LayerNorm:
            normKernel(call);
            return;
        }
    } catch (const Error&) {
        throw;
    } catch (const std::invalid_argument& e) {
        detail::fail(n, e.what());
    } catch (const std::out_of_range& e) {
        detail::fail(n, e.what());
    } catch (const std::length_error& e) {
        detail::fail(n, e.what());
    }
    throw std::logic_error(detail::nodePrefix(n) + "unknown op");
}

}  // namespace adj::cpu
