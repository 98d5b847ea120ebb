#pragma once
// The Vulkan backend: runs a graph as compute shaders on one device (vulkan_context.h chooses
// it), checked against the CPU executor op by op in tests/engine/tst_vulkan_ops.cpp.
//
// A run records every dispatch of the graph into one command buffer, with a barrier between
// dispatches, and submits it once (RunOptions of the Executor interface are honoured; graph
// outputs come back through staging buffers). Tensors bound to sources (parameters, inputs,
// constants) stay resident on the device across runs, keyed by the host storage they came from
// and a hash of their contents: a training step that binds the parameters the previous step
// returned uploads nothing, and a tensor changed in place is uploaded again.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "runtime/executor.h"

namespace adj {

struct VulkanOptions {
    /// Submit and wait after every dispatch instead of once per run (for the benchmark's
    /// comparison only: it is much slower).
    bool submitPerOp = false;
};

/// What the last run did, for benchmarks and tests.
struct VulkanRunStats {
    int dispatches = 0;
    int submits = 0;
    std::uint64_t bytesUploaded = 0;
    int residentHits = 0;     // source tensors found on the device
    int residentUploads = 0;  // source tensors uploaded
};

class VulkanExecutor : public Executor {
public:
    /// Throws adj::Error when no Vulkan device is usable (naming why).
    explicit VulkanExecutor(VulkanOptions options = {});
    ~VulkanExecutor() override;

    std::string name() const override { return "vulkan"; }
    std::string deviceName() const override;
    bool supports(Op op) const override;
    RunResult run(const Graph& graph, const Bindings& bindings, const RunOptions& options = {}) override;

    /// The device's capabilities in one line (subgroups, fp16).
    std::string capabilitySummary() const;
    /// True for a software driver that runs on the CPU (Mesa's lavapipe, "llvmpipe"): correct,
    /// but no faster than the CPU backend.
    bool isSoftwareDevice() const;
    bool subgroupArithmetic() const;
    VulkanRunStats lastRunStats() const;
    /// The generated GLSL of a fused node from the runs so far ("" if none), by node name.
    std::string generatedSource(const std::string& nodeName) const;
    void setSubmitPerOp(bool on);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

std::unique_ptr<Executor> makeVulkanExecutor(VulkanOptions options = {});

}  // namespace adj
