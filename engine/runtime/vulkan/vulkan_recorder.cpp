#include "runtime/vulkan/vulkan_recorder.h"

#include <cstring>

#include "runtime/vulkan/vk_check.h"
#include "runtime/vulkan/vulkan_context.h"

namespace adj::vk {

bool DevTensor::isContiguous() const {
    std::int64_t expect = 1;
    for (std::size_t d = shape.size(); d-- > 0;) {
        if (shape[d] != 1 && strides[d] != expect) return false;
        expect *= shape[d];
    }
    return true;
}

std::vector<std::uint32_t> layoutWords(const Shape& iterShape, const std::vector<std::pair<std::int64_t, Strides>>& operands) {
    if (iterShape.size() > ADJ_META_RANK) throw Error("Vulkan: rank " + std::to_string(iterShape.size()) + " is above the shaders' limit of 8");
    auto word = [](std::int64_t v) {
        if (v < 0 || v > std::int64_t(UINT32_MAX)) throw Error("Vulkan: a tensor index (" + std::to_string(v) + ") does not fit 32 bits");
        return std::uint32_t(v);
    };
    std::vector<std::uint32_t> w(std::size_t(ADJ_META_OPERAND(operands.size())), 0);
    for (std::size_t d = 0; d < iterShape.size(); ++d) w[d] = word(iterShape[d]);
    for (std::size_t k = 0; k < operands.size(); ++k) {
        const std::size_t base = std::size_t(ADJ_META_OPERAND(k));
        w[base] = word(operands[k].first);
        const Strides& s = operands[k].second;
        if (s.size() > ADJ_META_RANK) throw Error("Vulkan: too many strides for the shaders' layout");
        for (std::size_t d = 0; d < s.size(); ++d) w[base + 1 + d] = word(s[d]);
    }
    return w;
}

void collapseDims(Shape& shape, std::vector<Strides*> strides) {
    Shape ns;
    std::vector<Strides> nst(strides.size());
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;
        bool merge = !ns.empty();
        for (std::size_t k = 0; merge && k < strides.size(); ++k) merge = nst[k].back() == (*strides[k])[d] * shape[d];
        if (merge) {
            ns.back() *= shape[d];
            for (std::size_t k = 0; k < strides.size(); ++k) nst[k].back() = (*strides[k])[d];
        } else {
            ns.push_back(shape[d]);
            for (std::size_t k = 0; k < strides.size(); ++k) nst[k].push_back((*strides[k])[d]);
        }
    }
    if (ns.empty() && numel(shape) == 1) {  // a single element: rank 1 of size 1
        ns.push_back(1);
        for (auto& s : nst) s.push_back(0);
    }
    shape = ns;
    for (std::size_t k = 0; k < strides.size(); ++k) *strides[k] = nst[k];
}

CommandRecorder::CommandRecorder(const VulkanContext& ctx, SubAllocator& device, SubAllocator& host, VkCommandPool pool, bool submitPerOp)
    : ctx_(ctx), device_(device), host_(host), pool_(pool), perOp_(submitPerOp) {
    VkCommandBufferAllocateInfo ai{};
    ai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    ai.commandPool = pool_;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    check(vkAllocateCommandBuffers(ctx_.device(), &ai, &cmd_), "vkAllocateCommandBuffers");
    VkFenceCreateInfo fi{};
    fi.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
    check(vkCreateFence(ctx_.device(), &fi, nullptr, &fence_), "vkCreateFence");
}

CommandRecorder::~CommandRecorder() {
    VkDevice dev = ctx_.device();
    if (recording_) vkEndCommandBuffer(cmd_);
    vkQueueWaitIdle(ctx_.queue());  // nothing in flight may outlive its buffers (after an error)
    for (VkDescriptorPool p : descriptorPools_) vkDestroyDescriptorPool(dev, p, nullptr);
    vkFreeCommandBuffers(dev, pool_, 1, &cmd_);
    vkDestroyFence(dev, fence_, nullptr);
}

void CommandRecorder::begin() {
    if (recording_) return;
    VkCommandBufferBeginInfo bi{};
    bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(cmd_, &bi), "vkBeginCommandBuffer");
    recording_ = true;
    anyCommand_ = false;
}

void CommandRecorder::barrier() {
    begin();
    if (!anyCommand_) {
        anyCommand_ = true;
        return;
    }
    VkMemoryBarrier mb{};
    mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(cmd_, stages, stages, 0, 1, &mb, 0, nullptr, 0, nullptr);
}

DevTensor CommandRecorder::allocate(const Shape& shape) {
    DevTensor t;
    t.shape = shape;
    t.strides = contiguousStrides(shape);
    t.buf = device_.allocate(VkDeviceSize(std::max<std::int64_t>(1, numel(shape))) * 4);
    return t;
}

void CommandRecorder::upload(const Tensor& host, const DevTensor& dst) {
    const Tensor c = host.contiguous();
    const VkDeviceSize bytes = VkDeviceSize(c.numel()) * 4;
    if (bytes == 0) return;
    BufferRef staging = host_.allocate(bytes);
    std::memcpy(staging->mapped, c.data(), bytes);
    barrier();
    VkBufferCopy region{staging->offset, dst.buf->offset + VkDeviceSize(dst.offset) * 4, bytes};
    vkCmdCopyBuffer(cmd_, staging->buffer, dst.buf->buffer, 1, &region);
    keep_.push_back(staging);
    keep_.push_back(dst.buf);
    uploaded_ += bytes;
}

void CommandRecorder::download(const DevTensor& src, Tensor dst) {
    const VkDeviceSize bytes = VkDeviceSize(src.numel()) * 4;
    if (bytes == 0) return;
    BufferRef staging = host_.allocate(bytes);
    barrier();
    VkBufferCopy region{src.buf->offset + VkDeviceSize(src.offset) * 4, staging->offset, bytes};
    vkCmdCopyBuffer(cmd_, src.buf->buffer, staging->buffer, 1, &region);
    keep_.push_back(staging);
    keep_.push_back(src.buf);
    afterWait_.push_back([staging, dst, bytes]() mutable { std::memcpy(dst.data(), staging->mapped, bytes); });
}

VkDescriptorSet CommandRecorder::allocateSet(VkDescriptorSetLayout layout) {
    constexpr std::uint32_t kSets = 128, kPerSet = 16;
    if (setsLeft_ == 0) {
        VkDescriptorPoolSize ps{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSets * kPerSet};
        VkDescriptorPoolCreateInfo ci{};
        ci.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
        ci.maxSets = kSets;
        ci.poolSizeCount = 1;
        ci.pPoolSizes = &ps;
        VkDescriptorPool p;
        check(vkCreateDescriptorPool(ctx_.device(), &ci, nullptr, &p), "vkCreateDescriptorPool");
        descriptorPools_.push_back(p);
        setsLeft_ = kSets;
    }
    VkDescriptorSetAllocateInfo ai{};
    ai.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
    ai.descriptorPool = descriptorPools_.back();
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &layout;
    VkDescriptorSet set;
    VkResult r = vkAllocateDescriptorSets(ctx_.device(), &ai, &set);
    if (r == VK_ERROR_OUT_OF_POOL_MEMORY || r == VK_ERROR_FRAGMENTED_POOL) {  // a wide fused kernel: new pool
        setsLeft_ = 0;
        return allocateSet(layout);
    }
    check(r, "vkAllocateDescriptorSets");
    --setsLeft_;
    return set;
}

void CommandRecorder::dispatchBytes(const Kernel& k, PushInfo push, const void* pushData, const std::vector<std::uint32_t>& meta,
                                    const std::vector<const DevTensor*>& buffers, std::uint32_t gx, std::uint32_t gy, std::uint32_t gz) {
    if (buffers.size() + 1 > k.bindings) throw Error("Vulkan: internal: more buffers than the kernel's bindings");
    if (push.bytes != k.push.bytes || std::strcmp(push.name, k.push.name) != 0)
        throw Error(std::string("Vulkan: internal: a kernel of ") + k.push.name + " dispatched with " + push.name);
    BufferRef metaBuf = host_.allocate(std::max<std::size_t>(meta.size(), 1) * 4);
    std::memcpy(metaBuf->mapped, meta.data(), meta.size() * 4);
    keep_.push_back(metaBuf);
    VkDescriptorSet set = allocateSet(k.setLayout);
    std::vector<VkDescriptorBufferInfo> infos(k.bindings);
    infos[0] = {metaBuf->buffer, metaBuf->offset, metaBuf->size};
    for (std::uint32_t b = 1; b < k.bindings; ++b) {
        const DevTensor* t = buffers[std::min<std::size_t>(b - 1, buffers.size() - 1)];
        if (b - 1 >= buffers.size()) t = buffers[0];  // unused binding: any valid buffer
        infos[b] = {t->buf->buffer, t->buf->offset, t->buf->size};
        keep_.push_back(t->buf);
    }
    std::vector<VkWriteDescriptorSet> writes(k.bindings);
    for (std::uint32_t b = 0; b < k.bindings; ++b) {
        writes[b] = {};
        writes[b].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
        writes[b].dstSet = set;
        writes[b].dstBinding = b;
        writes[b].descriptorCount = 1;
        writes[b].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[b].pBufferInfo = &infos[b];
    }
    vkUpdateDescriptorSets(ctx_.device(), std::uint32_t(writes.size()), writes.data(), 0, nullptr);
    barrier();
    vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, k.pipeline);
    vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, k.layout, 0, 1, &set, 0, nullptr);
    vkCmdPushConstants(cmd_, k.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push.bytes, pushData);
    vkCmdDispatch(cmd_, gx, gy, gz);
    ++dispatches_;
    if (perOp_) submitAndWait();
}

void CommandRecorder::submitAndWait() {
    if (!recording_) return;
    check(vkEndCommandBuffer(cmd_), "vkEndCommandBuffer");
    recording_ = false;
    VkSubmitInfo si{};
    si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cmd_;
    check(vkResetFences(ctx_.device(), 1, &fence_), "vkResetFences");
    check(injectedSubmitResult(), "vkQueueSubmit");
    check(vkQueueSubmit(ctx_.queue(), 1, &si, fence_), "vkQueueSubmit");
    ++submits_;
    check(vkWaitForFences(ctx_.device(), 1, &fence_, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    check(vkResetCommandBuffer(cmd_, 0), "vkResetCommandBuffer");
}

void CommandRecorder::finish() {
    submitAndWait();
    for (auto& f : afterWait_) f();
    afterWait_.clear();
    keep_.clear();
}

}  // namespace adj::vk

