#pragma once
// The Vulkan trait of the op table: how each op is recorded (one or more dispatches, or a view
// with no dispatch at all). Movement ops are views where the layout allows, as on the CPU.
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/vulkan/fusion_codegen.h"
#include "runtime/vulkan/vulkan_context.h"
#include "runtime/vulkan/vulkan_recorder.h"

namespace adj::vk {

/// What recording an op needs.
struct OpEnv {
    CommandRecorder& rec;
    PipelineStore& pipelines;
    FusedKernelCache& fused;
    const DeviceCapabilities& caps;
    /// Generated source of each fused node recorded, by node name (for the GUI).
    std::map<std::string, std::string>& generatedSources;
};

/// Whether the op has a Vulkan implementation.
bool vulkanSupports(Op op);

/// Records node `n` on inputs already on the device; returns its outputs (fresh tensors or views).
/// Throws adj::Error naming the node for a problem, or an unsupported op.
std::vector<DevTensor> recordOp(OpEnv& env, const Node& n, const std::vector<DevTensor>& inputs, const std::vector<ValueType>& outTypes);

/// `t` when contiguous (offset allowed), otherwise a contiguous copy recorded on the device.
DevTensor contiguousOnDevice(OpEnv& env, const DevTensor& t);

}  // namespace adj::vk
