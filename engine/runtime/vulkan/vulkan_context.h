#pragma once
// The Vulkan instance and the one device the backend computes on, with what it can do.
// Device choice: ADJOINT_VULKAN_DEVICE (an index into the physical devices, or a case-insensitive
// substring of a device name) when set; otherwise a discrete GPU first, then integrated, virtual,
// and finally any device with a compute queue (Mesa's lavapipe, a CPU device).
#include <cstdint>
#include <string>
#include <vector>

#include <vulkan/vulkan.h>

namespace adj::vk {

/// What the chosen device can do, read once at creation.
struct DeviceCapabilities {
    std::string name;
    VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
    std::uint32_t apiVersion = 0;
    std::uint32_t subgroupSize = 1;
    bool subgroupArithmetic = false;  // subgroupAdd & co in compute shaders
    bool shaderFloat16 = false;       // fp16 arithmetic (not used for results yet; reported)
    bool storage16 = false;           // 16-bit storage buffers
    std::uint32_t maxWorkgroupSize = 0;
    std::uint32_t maxWorkgroupCount[3] = {0, 0, 0};
    std::uint32_t maxSharedMemory = 0;
    std::uint32_t maxPushConstants = 0;
    std::uint64_t maxStorageBufferRange = 0;
    std::uint64_t minStorageBufferOffsetAlignment = 0;
    std::uint64_t deviceLocalBytes = 0;
    /// One line for people: "llvmpipe (LLVM 15.0.6, 256 bits) [cpu, subgroup 8, fp16 no]".
    std::string summary() const;
};

/// One physical device as listed for selection.
struct DeviceListing {
    std::uint32_t index = 0;
    std::string name;
    VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
};

class VulkanContext {
public:
    /// Creates the instance and the logical device. Throws adj::Error with a clear message when
    /// there is no Vulkan loader/driver, no device, or ADJOINT_VULKAN_DEVICE matches nothing.
    VulkanContext();
    ~VulkanContext();
    VulkanContext(const VulkanContext&) = delete;
    VulkanContext& operator=(const VulkanContext&) = delete;

    VkInstance instance() const { return instance_; }
    VkPhysicalDevice physicalDevice() const { return physical_; }
    VkDevice device() const { return device_; }
    VkQueue queue() const { return queue_; }
    std::uint32_t queueFamily() const { return queueFamily_; }
    const DeviceCapabilities& caps() const { return caps_; }
    const VkPhysicalDeviceMemoryProperties& memoryProperties() const { return memory_; }

    /// Every physical device the loader reports (for messages and tests).
    std::vector<DeviceListing> listDevices() const;

private:
    VkInstance instance_ = VK_NULL_HANDLE;
    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    std::uint32_t queueFamily_ = 0;
    DeviceCapabilities caps_;
    VkPhysicalDeviceMemoryProperties memory_{};
};

/// Which of `devices` to use given ADJOINT_VULKAN_DEVICE's value (empty: not set). Pure, for
/// tests. Throws adj::Error naming the value and listing the devices when nothing matches.
std::uint32_t chooseDevice(const std::vector<DeviceListing>& devices, const std::string& request);

}  // namespace adj::vk
