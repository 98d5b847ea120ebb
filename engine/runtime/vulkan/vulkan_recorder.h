#pragma once
// One run's commands: uploads through staging buffers, dispatches with a barrier between each,
// downloads through staging buffers, all in one command buffer submitted once at finish() (or,
// for comparison in the benchmark, one submit per dispatch). Owns the run's descriptor sets,
// layout data and staging memory; device tensors it allocates live as long as their BufferRefs.
#include <cstdint>
#include <functional>
#include <vector>

#include <vulkan/vulkan.h>

#include "runtime/vulkan/pipelines.h"
#include "runtime/vulkan/vulkan_memory.h"
#include "runtime/vulkan/vulkan_push.h"
#include "tensor/tensor.h"

namespace adj::vk {

class VulkanContext;

/// A tensor on the device: a buffer range plus offset, shape and strides in elements (views
/// share the buffer, like adj::Tensor's views share storage).
struct DevTensor {
    BufferRef buf;
    Shape shape;
    Strides strides;
    std::int64_t offset = 0;
    std::int64_t numel() const { return adj::numel(shape); }
    bool isContiguous() const;
};

/// The operands of one dispatch as meta words (shaders/adj_push.h): the iteration shape, then per
/// operand its offset and its strides over that shape. Throws adj::Error past 32-bit indices.
std::vector<std::uint32_t> layoutWords(const Shape& iterShape, const std::vector<std::pair<std::int64_t, Strides>>& operands);

/// Merges neighbouring dimensions that every operand walks contiguously and drops size-1 ones,
/// so a contiguous elementwise op runs with rank 1 and no index arithmetic.
void collapseDims(Shape& shape, std::vector<Strides*> strides);

class CommandRecorder {
public:
    CommandRecorder(const VulkanContext& ctx, SubAllocator& device, SubAllocator& host, VkCommandPool pool, bool submitPerOp);
    ~CommandRecorder();
    CommandRecorder(const CommandRecorder&) = delete;
    CommandRecorder& operator=(const CommandRecorder&) = delete;

    /// A fresh contiguous device tensor (contents undefined until written).
    DevTensor allocate(const Shape& shape);
    /// Copies a host tensor into `dst` (contiguous, same element count) through a staging buffer.
    void upload(const Tensor& host, const DevTensor& dst);
    /// After finish(), `dst` (a fresh host tensor of src's shape) holds src (contiguous).
    void download(const DevTensor& src, Tensor dst);
    /// Records one dispatch of `k` with push constants `pc` (the struct the kernel was made for;
    /// another one is an adj::Error); `buffers` are the output then the inputs (bindings 1..).
    template <PushConstants P>
    void dispatch(const Kernel& k, const P& pc, const std::vector<std::uint32_t>& meta, const std::vector<const DevTensor*>& buffers,
                  std::uint32_t gx, std::uint32_t gy = 1, std::uint32_t gz = 1) {
        dispatchBytes(k, pushInfo<P>(), &pc, meta, buffers, gx, gy, gz);
    }
    /// Submits what is recorded, waits, and completes the downloads. The recorder can go on
    /// recording afterwards (a second batch).
    void finish();

    int submits() const { return submits_; }
    int dispatches() const { return dispatches_; }
    std::uint64_t bytesUploaded() const { return uploaded_; }

private:
    void dispatchBytes(const Kernel& k, PushInfo push, const void* pushData, const std::vector<std::uint32_t>& meta,
                       const std::vector<const DevTensor*>& buffers, std::uint32_t gx, std::uint32_t gy, std::uint32_t gz);
    void begin();
    void barrier();
    void submitAndWait();
    VkDescriptorSet allocateSet(VkDescriptorSetLayout layout);

    const VulkanContext& ctx_;
    SubAllocator& device_;
    SubAllocator& host_;
    VkCommandPool pool_;
    bool perOp_;
    VkCommandBuffer cmd_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    bool recording_ = false, anyCommand_ = false;
    std::vector<VkDescriptorPool> descriptorPools_;
    std::uint32_t setsLeft_ = 0;
    std::vector<BufferRef> keep_;  // staging, meta and buffers the recorded commands use
    std::vector<std::function<void()>> afterWait_;
    int submits_ = 0, dispatches_ = 0;
    std::uint64_t uploaded_ = 0;
};

}  // namespace adj::vk
