#include "runtime/vulkan/vulkan_memory.h"

#include <algorithm>

#include "runtime/vulkan/vk_check.h"
#include "runtime/vulkan/vulkan_context.h"

namespace adj::vk {

SubAllocator::SubAllocator(const VulkanContext& ctx, Kind kind, VkDeviceSize blockSize)
    : ctx_(ctx), kind_(kind), blockSize_(blockSize), self_(std::make_shared<SubAllocator*>(this)) {
    alignment_ = std::max<VkDeviceSize>(256, ctx.caps().minStorageBufferOffsetAlignment);
}

SubAllocator::~SubAllocator() {
    *self_ = nullptr;
    for (Block& b : blocks_) {
        if (b.mapped) vkUnmapMemory(ctx_.device(), b.memory);
        vkDestroyBuffer(ctx_.device(), b.buffer, nullptr);
        vkFreeMemory(ctx_.device(), b.memory, nullptr);
    }
}

void SubAllocator::addBlock(VkDeviceSize size) {
    VkDevice dev = ctx_.device();
    Block b;
    b.size = size;
    VkBufferCreateInfo bci{};
    bci.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
    bci.size = size;
    bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    check(vkCreateBuffer(dev, &bci, nullptr, &b.buffer), "vkCreateBuffer");
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev, b.buffer, &req);
    const auto& mp = ctx_.memoryProperties();
    const VkMemoryPropertyFlags want = kind_ == Kind::DeviceLocal
                                           ? VkMemoryPropertyFlags(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)
                                           : VkMemoryPropertyFlags(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    std::uint32_t type = UINT32_MAX;
    for (std::uint32_t i = 0; i < mp.memoryTypeCount && type == UINT32_MAX; ++i)
        if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want) type = i;
    if (type == UINT32_MAX && kind_ == Kind::DeviceLocal)  // no device-local type fits: take any
        for (std::uint32_t i = 0; i < mp.memoryTypeCount && type == UINT32_MAX; ++i)
            if (req.memoryTypeBits & (1u << i)) type = i;
    if (type == UINT32_MAX) {
        vkDestroyBuffer(dev, b.buffer, nullptr);
        throw Error("Vulkan: device '" + ctx_.caps().name + "' has no suitable memory type for buffers");
    }
    VkMemoryAllocateInfo mai{};
    mai.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
    mai.allocationSize = req.size;
    mai.memoryTypeIndex = type;
    const VkResult r = vkAllocateMemory(dev, &mai, nullptr, &b.memory);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(dev, b.buffer, nullptr);
        throw Error("Vulkan: cannot allocate " + std::to_string(size >> 20) + " MiB of device memory on '" + ctx_.caps().name +
                    "' (" + resultName(r) + ")");
    }
    check(vkBindBufferMemory(dev, b.buffer, b.memory, 0), "vkBindBufferMemory");
    if (mp.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
        check(vkMapMemory(dev, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped), "vkMapMemory");
        if (kind_ == Kind::DeviceLocal) hostVisible_ = true;
    }
    b.free.push_back({0, size});
    blocks_.push_back(std::move(b));
}

BufferRef SubAllocator::allocate(VkDeviceSize bytes) {
    const VkDeviceSize need = std::max<VkDeviceSize>(alignment_, (bytes + alignment_ - 1) / alignment_ * alignment_);
    auto tryBlock = [&](std::uint32_t bi) -> BufferRef {
        Block& b = blocks_[bi];
        for (std::size_t i = 0; i < b.free.size(); ++i) {
            Range& fr = b.free[i];
            if (fr.size < need) continue;
            Allocation a{b.buffer, fr.offset, need, bi, b.mapped ? static_cast<std::byte*>(b.mapped) + fr.offset : nullptr};
            fr.offset += need;
            fr.size -= need;
            if (fr.size == 0) b.free.erase(b.free.begin() + std::ptrdiff_t(i));
            inUse_ += need;
            peakInUse_ = std::max(peakInUse_, inUse_);
            std::shared_ptr<SubAllocator*> owner = self_;
            return BufferRef(new Allocation(a), [owner](const Allocation* p) {
                if (*owner) (*owner)->release(*p);
                delete p;
            });
        }
        return nullptr;
    };
    for (std::uint32_t bi = 0; bi < blocks_.size(); ++bi)
        if (BufferRef r = tryBlock(bi)) return r;
    addBlock(std::max(blockSize_, need));
    return tryBlock(std::uint32_t(blocks_.size() - 1));
}

void SubAllocator::release(const Allocation& a) {
    std::vector<Range>& fl = blocks_.at(a.block).free;
    auto it = std::lower_bound(fl.begin(), fl.end(), a.offset, [](const Range& r, VkDeviceSize off) { return r.offset < off; });
    it = fl.insert(it, Range{a.offset, a.size});
    inUse_ -= a.size;
    if (it + 1 != fl.end() && it->offset + it->size == (it + 1)->offset) {
        it->size += (it + 1)->size;
        fl.erase(it + 1);
    }
    if (it != fl.begin() && (it - 1)->offset + (it - 1)->size == it->offset) {
        (it - 1)->size += it->size;
        fl.erase(it);
    }
}

}  // namespace adj::vk
