#pragma once
// Device memory: large VkBuffer blocks carved up by a first-fit sub-allocator (one vkAllocateMemory
// per block, not per tensor), device-local for tensors and host-visible for staging and layout
// data. An allocation is handed out as a shared_ptr that returns its range when the last user
// (a run, a resident parameter) lets go.
#include <cstdint>
#include <memory>
#include <vector>

#include <vulkan/vulkan.h>

namespace adj::vk {

class VulkanContext;
class SubAllocator;

/// A range of one block's VkBuffer. `mapped` points at the range when the block is host-visible.
struct Allocation {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceSize offset = 0;
    VkDeviceSize size = 0;
    std::uint32_t block = 0;
    void* mapped = nullptr;
};
using BufferRef = std::shared_ptr<const Allocation>;

class SubAllocator {
public:
    enum class Kind { DeviceLocal, HostVisible };
    SubAllocator(const VulkanContext& ctx, Kind kind, VkDeviceSize blockSize = VkDeviceSize(64) << 20);
    ~SubAllocator();
    SubAllocator(const SubAllocator&) = delete;
    SubAllocator& operator=(const SubAllocator&) = delete;

    /// At least `bytes` (rounded up to the storage-buffer offset alignment), from the first block
    /// with room, or from a new block. Throws adj::Error when the device is out of memory.
    BufferRef allocate(VkDeviceSize bytes);

    std::size_t blockCount() const { return blocks_.size(); }
    VkDeviceSize bytesInUse() const { return inUse_; }
    /// The most bytes in use at once since the last resetPeak() (or since the allocator was made).
    VkDeviceSize peakBytesInUse() const { return peakInUse_; }
    void resetPeak() { peakInUse_ = inUse_; }
    /// Whether device-local memory is also host-visible (unified memory, lavapipe).
    bool hostVisible() const { return hostVisible_; }

private:
    struct Range {
        VkDeviceSize offset, size;
    };
    struct Block {
        VkBuffer buffer = VK_NULL_HANDLE;
        VkDeviceMemory memory = VK_NULL_HANDLE;
        VkDeviceSize size = 0;
        void* mapped = nullptr;
        std::vector<Range> free;  // sorted by offset, coalesced
    };
    void release(const Allocation& a);
    void addBlock(VkDeviceSize size);

    const VulkanContext& ctx_;
    Kind kind_;
    VkDeviceSize blockSize_, alignment_;
    bool hostVisible_ = false;
    std::vector<Block> blocks_;
    VkDeviceSize inUse_ = 0, peakInUse_ = 0;
    /// Lets allocations outliving the allocator (they should not) release harmlessly.
    std::shared_ptr<SubAllocator*> self_;
};

}  // namespace adj::vk
