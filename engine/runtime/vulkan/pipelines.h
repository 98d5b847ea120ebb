#pragma once
// Compute pipelines, made once per shader and kept: built-in variants by name, generated kernels
// by source hash. Creation goes through one VkPipelineCache that is loaded from and saved to disk
// (cacheDirectory()/vulkan_pipelines.bin), so drivers skip recompiling SPIR-V on later runs.
// Every pipeline's set 0 holds storage buffers: binding 0 the layout data (meta), binding 1 the
// output, bindings 2.. the inputs. Push constants: the shader family's struct of shaders/adj_push.h,
// named when the kernel is made; its layout's push-constant range is exactly that struct's size.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <vulkan/vulkan.h>

#include "runtime/vulkan/vulkan_push.h"

namespace adj::vk {

class VulkanContext;

struct Kernel {
    VkPipeline pipeline = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkDescriptorSetLayout setLayout = VK_NULL_HANDLE;
    std::uint32_t bindings = 0;
    PushInfo push;  // the push-constant struct its shader declares
};

class PipelineStore {
public:
    explicit PipelineStore(const VulkanContext& ctx);
    ~PipelineStore();  // saves the pipeline cache
    PipelineStore(const PipelineStore&) = delete;
    PipelineStore& operator=(const PipelineStore&) = delete;

    /// The built-in variant `name` (shaders/CMakeLists.txt) with `bindings` buffers, push constants
    /// P (the struct its shader selects in shaders/adj_push.h), and the specialization constants
    /// `spec` (constant_id 0, 1, ...; the elementwise shader's op).
    template <PushConstants P>
    const Kernel& builtin(const std::string& name, std::uint32_t bindings, const std::vector<std::uint32_t>& spec = {}) {
        return builtin(name, bindings, pushInfo<P>(), spec);
    }
    /// A kernel from SPIR-V generated at run time, keyed by `key` (its source hash). Generated
    /// kernels are fusion kernels (fusion_codegen.h) and take PushElementwise.
    const Kernel& generated(const std::string& key, const std::vector<std::uint32_t>& spirv, std::uint32_t bindings);
    std::size_t size() const { return kernels_.size(); }

private:
    const Kernel& builtin(const std::string& name, std::uint32_t bindings, PushInfo push, const std::vector<std::uint32_t>& spec);
    const Kernel& make(const std::string& key, const std::uint32_t* words, std::size_t count, std::uint32_t bindings, PushInfo push,
                       const std::vector<std::uint32_t>& spec = {});
    VkDescriptorSetLayout setLayout(std::uint32_t bindings);
    VkPipelineLayout pipelineLayout(std::uint32_t bindings, std::uint32_t pushBytes);

    const VulkanContext& ctx_;
    VkPipelineCache cache_ = VK_NULL_HANDLE;
    std::string cacheFile_;
    std::map<std::uint32_t, VkDescriptorSetLayout> setLayouts_;
    std::map<std::pair<std::uint32_t, std::uint32_t>, VkPipelineLayout> layouts_;  // by bindings and push bytes
    std::map<std::string, std::unique_ptr<Kernel>> kernels_;
};

}  // namespace adj::vk
