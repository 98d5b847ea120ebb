#include "runtime/vulkan/pipelines.h"

#include <filesystem>
#include <string_view>

#include "base/files.h"
#include "runtime/vulkan/fusion_codegen.h"
#include "runtime/vulkan/shader_registry.h"
#include "runtime/vulkan/vk_check.h"
#include "runtime/vulkan/vulkan_context.h"

namespace adj::vk {

PipelineStore::PipelineStore(const VulkanContext& ctx) : ctx_(ctx) {
    const std::string dir = cacheDirectory();
    std::string data;
    if (!dir.empty()) {
        cacheFile_ = (std::filesystem::path(dir) / "vulkan_pipelines.bin").string();
        try {
            data = readFileBytes(cacheFile_);
        } catch (const Error&) {
            // no cache yet
        }
    }
    VkPipelineCacheCreateInfo ci{};
    ci.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO;
    ci.initialDataSize = data.size();
    ci.pInitialData = data.empty() ? nullptr : data.data();
    if (vkCreatePipelineCache(ctx_.device(), &ci, nullptr, &cache_) != VK_SUCCESS) {
        ci.initialDataSize = 0;  // stale or foreign data: start empty
        ci.pInitialData = nullptr;
        check(vkCreatePipelineCache(ctx_.device(), &ci, nullptr, &cache_), "vkCreatePipelineCache");
    }
}

PipelineStore::~PipelineStore() {
    VkDevice dev = ctx_.device();
    if (!cacheFile_.empty()) {
        size_t size = 0;
        if (vkGetPipelineCacheData(dev, cache_, &size, nullptr) == VK_SUCCESS && size > 0) {
            std::vector<char> data(size);
            if (vkGetPipelineCacheData(dev, cache_, &size, data.data()) == VK_SUCCESS) {
                try {
                    writeFileAtomically(cacheFile_, std::string_view(data.data(), size));
                } catch (const Error&) {
                    // a cache we cannot write is no error
                }
            }
        }
    }
    for (auto& [key, k] : kernels_) vkDestroyPipeline(dev, k->pipeline, nullptr);
    for (auto& [n, l] : layouts_) vkDestroyPipelineLayout(dev, l, nullptr);
    for (auto& [n, l] : setLayouts_) vkDestroyDescriptorSetLayout(dev, l, nullptr);
    vkDestroyPipelineCache(dev, cache_, nullptr);
}

VkDescriptorSetLayout PipelineStore::setLayout(std::uint32_t bindings) {
    if (auto it = setLayouts_.find(bindings); it != setLayouts_.end()) return it->second;
    std::vector<VkDescriptorSetLayoutBinding> b(bindings);
    for (std::uint32_t i = 0; i < bindings; ++i) b[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    VkDescriptorSetLayoutCreateInfo ci{};
    ci.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
    ci.bindingCount = bindings;
    ci.pBindings = b.data();
    VkDescriptorSetLayout l;
    check(vkCreateDescriptorSetLayout(ctx_.device(), &ci, nullptr, &l), "vkCreateDescriptorSetLayout");
    setLayouts_[bindings] = l;
    return l;
}

VkPipelineLayout PipelineStore::pipelineLayout(std::uint32_t bindings, std::uint32_t pushBytes) {
    const auto key = std::make_pair(bindings, pushBytes);
    if (auto it = layouts_.find(key); it != layouts_.end()) return it->second;
    VkDescriptorSetLayout l = setLayout(bindings);
    VkPushConstantRange pcr{VK_SHADER_STAGE_COMPUTE_BIT, 0, pushBytes};
    VkPipelineLayoutCreateInfo pli{};
    pli.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
    pli.setLayoutCount = 1;
    pli.pSetLayouts = &l;
    pli.pushConstantRangeCount = 1;
    pli.pPushConstantRanges = &pcr;
    VkPipelineLayout pl;
    check(vkCreatePipelineLayout(ctx_.device(), &pli, nullptr, &pl), "vkCreatePipelineLayout");
    layouts_[key] = pl;
    return pl;
}

const Kernel& PipelineStore::make(const std::string& key, const std::uint32_t* words, std::size_t count, std::uint32_t bindings,
                                  PushInfo push, const std::vector<std::uint32_t>& spec) {
    VkDevice dev = ctx_.device();
    auto k = std::make_unique<Kernel>();
    k->setLayout = setLayout(bindings);
    k->layout = pipelineLayout(bindings, push.bytes);
    k->bindings = bindings;
    k->push = push;
    VkShaderModuleCreateInfo smi{};
    smi.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
    smi.codeSize = count * 4;
    smi.pCode = words;
    VkShaderModule mod;
    check(vkCreateShaderModule(dev, &smi, nullptr, &mod), "vkCreateShaderModule");
    VkComputePipelineCreateInfo pci{};
    pci.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
    pci.stage = {};
    pci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    pci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    pci.stage.module = mod;
    pci.stage.pName = "main";
    std::vector<VkSpecializationMapEntry> entries;
    for (std::uint32_t i = 0; i < spec.size(); ++i) entries.push_back({i, i * 4u, 4u});
    VkSpecializationInfo si{std::uint32_t(entries.size()), entries.data(), spec.size() * 4, spec.data()};
    if (!spec.empty()) pci.stage.pSpecializationInfo = &si;
    pci.layout = k->layout;
    const VkResult r = vkCreateComputePipelines(dev, cache_, 1, &pci, nullptr, &k->pipeline);
    vkDestroyShaderModule(dev, mod, nullptr);
    check(r, ("vkCreateComputePipelines for shader '" + key + "'").c_str());
    return *kernels_.emplace(key, std::move(k)).first->second;
}

const Kernel& PipelineStore::builtin(const std::string& name, std::uint32_t bindings, PushInfo push, const std::vector<std::uint32_t>& spec) {
    std::string key = name + "/" + std::to_string(bindings);
    for (std::uint32_t v : spec) key += "/" + std::to_string(v);
    if (auto it = kernels_.find(key); it != kernels_.end()) return *it->second;
    const EmbeddedShader* s = findShader(name);
    if (!s) throw Error("Vulkan: no embedded shader '" + name + "'");
    return make(key, s->words, s->wordCount, bindings, push, spec);
}

const Kernel& PipelineStore::generated(const std::string& key, const std::vector<std::uint32_t>& spirv, std::uint32_t bindings) {
    const std::string k = "gen:" + key + "/" + std::to_string(bindings);
    if (auto it = kernels_.find(k); it != kernels_.end()) return *it->second;
    return make(k, spirv.data(), spirv.size(), bindings, pushInfo<PushElementwise>());
}

}  // namespace adj::vk
