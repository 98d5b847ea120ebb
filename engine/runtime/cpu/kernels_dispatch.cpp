#include <algorithm>
#include <stdexcept>
#include <string>

#include "runtime/cpu/cpu_kernels.h"
#include "ir/element_types.h"
#include "runtime/cpu/kernel_util.h"

namespace adj::cpu {

namespace {

void checkCall(const KernelCall& call) {
    const Node& n = call.node;
    const OpInfo& info = opInfo(n.op);
    const int count = int(call.inputs.size());
    if (count < info.minInputs || (info.maxInputs >= 0 && count > info.maxInputs))
        detail::fail(n, "got " + std::to_string(count) + " inputs");
    std::vector<DType> types;
    for (int i = 0; i < count; ++i) {
        if (!call.inputs[std::size_t(i)].defined()) detail::fail(n, "input " + std::to_string(i) + " is undefined");
        types.push_back(call.inputs[std::size_t(i)].dtype());
    }
    try {
        (void)outputElementTypes(n, types);  // (ir/element_types.h)
    } catch (const std::invalid_argument& e) {
        detail::fail(n, e.what());
    }
    if (call.outTypes.empty()) detail::fail(n, "no output types were given");
}

}  // namespace

Tensor& newOutput(KernelCall& call, std::size_t i, const Shape& shape) {
    if (call.outputs.size() <= i) call.outputs.resize(i + 1);
    Tensor& out = call.outputs[i];
    const DType type = i < call.outTypes.size() ? call.outTypes[i].dtype : DType::F32;
    if (call.planned && i < call.planned->size() && (*call.planned)[i].defined() && (*call.planned)[i].shape() == shape &&
        (*call.planned)[i].dtype() == type)
        out = (*call.planned)[i];
    else
        out = Tensor::empty(shape, type);
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
        if (!isSource(n.op) && runsFloatTypesKernel(call)) {
            floatTypesKernel(call);
            return;
        }
        switch (opInfo(n.op).family) {
        case OpFamily::Source:
            throw std::logic_error(detail::nodePrefix(n) + "source nodes are handled by the executor");
        case OpFamily::Elementwise: elementwiseKernel(call); return;
        case OpFamily::Fused: fusedKernel(call); return;
        case OpFamily::MatMul: matmulKernel(call); return;
        case OpFamily::Reduce: reductionKernel(call); return;
        case OpFamily::View: viewKernel(call); return;
        case OpFamily::Copy: copyKernel(call); return;
        case OpFamily::Index: indexKernel(call); return;
        case OpFamily::Conv: convKernel(call); return;
        case OpFamily::Pool: poolKernel(call); return;
        case OpFamily::Norm: normKernel(call); return;
        case OpFamily::Grad: derivativeKernel(call); return;
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
