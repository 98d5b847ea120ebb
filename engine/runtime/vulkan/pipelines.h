#pragma once
// Compute pipelines, made once per shader and kept: built-in variants by name, generated kernels
// by source hash. Creation goes through one VkPipelineCache that is loaded from and saved to disk
// (cacheDirectory()/vulkan_pipelines.bin), so drivers skip recompiling SPIR-V on later runs.
// Every pipeline's set 0 holds storage buffers: binding 0 the layout data (meta), binding 1 the
// output, bindings 2.. the inputs; push constants are AdjPush.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <vulkan/vulkan.h>

namespace adj::vk {

class VulkanContext;

struct Kernel {
    VkPipeline pipeline = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkDescriptorSetLayout setLayout = VK_NULL_HANDLE;
    std::uint32_t bindings = 0;
};

class PipelineStore {
public:
    explicit PipelineStore(const VulkanContext& ctx);
    ~PipelineStore();  // saves the pipeline cache
    PipelineStore(const PipelineStore&) = delete;
    PipelineStore& operator=(const PipelineStore&) = delete;

    /// The built-in variant `name` (shaders/CMakeLists.txt) with `bindings` buffers, and the
    /// specialization constants `spec` (constant_id 0, 1, ...; the elementwise shader's op).
    const Kernel& builtin(const std::string& name, std::uint32_t bindings, const std::vector<std::uint32_t>& spec = {});
    /// A kernel from SPIR-V generated at run time, keyed by `key` (its source hash).
    const Kernel& generated(const std::string& key, const std::vector<std::uint32_t>& spirv, std::uint32_t bindings);
    std::size_t size() const { return kernels_.size(); }

private:
    const Kernel& make(const std::string& key, const std::uint32_t* words, std::size_t count, std::uint32_t bindings,
                       const std::vector<std::uint32_t>& spec = {});
    VkDescriptorSetLayout setLayout(std::uint32_t bindings);

    const VulkanContext& ctx_;
    VkPipelineCache cache_ = VK_NULL_HANDLE;
    std::string cacheFile_;
    std::map<std::uint32_t, VkDescriptorSetLayout> setLayouts_;
    std::map<std::uint32_t, VkPipelineLayout> layouts_;
    std::map<std::string, std::unique_ptr<Kernel>> kernels_;
};

}  // namespace adj::vk
