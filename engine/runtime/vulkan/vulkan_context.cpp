#include "runtime/vulkan/vulkan_context.h"

#include <atomic>
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "runtime/vulkan/vk_check.h"

#if defined(__SANITIZE_ADDRESS__)
#include <dlfcn.h>
#include <link.h>

#include <set>
#include <string>
#define ADJOINT_KEEP_DRIVERS_LOADED 1
#endif

namespace adj::vk {

namespace {

#if ADJOINT_KEEP_DRIVERS_LOADED
// AddressSanitizer builds only. The Vulkan loader unloads the driver when the instance is destroyed;
// lavapipe keeps a small buffer in one of its statics, and once its code is unmapped LeakSanitizer
// reports that buffer as a leak "from <unknown module>" at exit, which no suppression can name (a
// bare vkCreateInstance + vkDestroyInstance shows it). The libraries vkCreateInstance brought in are
// kept loaded for the life of the process instead, so that a real leak of ours stays visible.
std::set<std::string> loadedLibraries() {
    std::set<std::string> names;
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* out) {
            if (info->dlpi_name && info->dlpi_name[0]) static_cast<std::set<std::string>*>(out)->insert(info->dlpi_name);
            return 0;
        },
        &names);
    return names;
}

void keepLoadedSince(const std::set<std::string>& before) {
    for (const std::string& name : loadedLibraries())
        if (!before.count(name))
            if (void* h = dlopen(name.c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE)) dlclose(h);
}
#endif

}  // namespace

namespace {
std::atomic<int> injectedCountdown{0};
std::atomic<int> injectedResult{VK_SUCCESS};
}  // namespace

void injectSubmitFailure(int afterSubmits, VkResult result) {
    injectedResult = result;
    injectedCountdown = std::max(0, afterSubmits);
}

VkResult injectedSubmitResult() {
    int left = injectedCountdown.load();
    if (left == 0) return VK_SUCCESS;
    // Counts down to 1 and stays there: once due, every later submission fails too (a lost device
    // stays lost).
    while (left > 1 && !injectedCountdown.compare_exchange_weak(left, left - 1)) {
    }
    return left == 1 ? VkResult(injectedResult.load()) : VK_SUCCESS;
}

const char* resultName(VkResult r) {
    switch (r) {
        case VK_SUCCESS: return "VK_SUCCESS";
        case VK_NOT_READY: return "VK_NOT_READY";
        case VK_TIMEOUT: return "VK_TIMEOUT";
        case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
        case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
        case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
        case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
        case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
        case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
        case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
        case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
        case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
        case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
        case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
        default: return "VkResult error";
    }
}

namespace {

int typeRank(VkPhysicalDeviceType t) {
    switch (t) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
        default: return 4;
    }
}

const char* typeName(VkPhysicalDeviceType t) {
    switch (t) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
        default: return "other";
    }
}

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::vector<VkPhysicalDevice> physicalDevices(VkInstance inst) {
    std::uint32_t count = 0;
    check(vkEnumeratePhysicalDevices(inst, &count, nullptr), "vkEnumeratePhysicalDevices");
    std::vector<VkPhysicalDevice> devs(count);
    check(vkEnumeratePhysicalDevices(inst, &count, devs.data()), "vkEnumeratePhysicalDevices");
    return devs;
}

bool computeQueueFamily(VkPhysicalDevice pd, std::uint32_t& family) {
    std::uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
    std::vector<VkQueueFamilyProperties> fams(n);
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fams.data());
    for (std::uint32_t i = 0; i < n; ++i)
        if (fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            family = i;
            return true;
        }
    return false;
}

}  // namespace

std::string DeviceCapabilities::summary() const {
    return name + " [" + typeName(type) + ", subgroup " + std::to_string(subgroupSize) +
           (subgroupArithmetic ? " with arithmetic" : " without arithmetic") + ", fp16 " + (shaderFloat16 ? "yes" : "no") + "]";
}

std::uint32_t chooseDevice(const std::vector<DeviceListing>& devices, const std::string& request) {
    if (devices.empty())
        throw Error("Vulkan: no device found (is a Vulkan driver installed? VK_ICD_FILENAMES may point at nothing)");
    auto list = [&] {
        std::string s;
        for (const auto& d : devices) s += (s.empty() ? "" : ", ") + std::to_string(d.index) + ": " + d.name;
        return s;
    };
    if (!request.empty()) {
        const bool numeric = std::all_of(request.begin(), request.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        if (numeric) {
            const unsigned long idx = std::strtoul(request.c_str(), nullptr, 10);
            for (const auto& d : devices)
                if (d.index == idx) return d.index;
        } else {
            for (const auto& d : devices)
                if (lower(d.name).find(lower(request)) != std::string::npos) return d.index;
        }
        throw Error("Vulkan: ADJOINT_VULKAN_DEVICE='" + request + "' matches no device (devices: " + list() + ")");
    }
    const DeviceListing* best = &devices.front();
    for (const auto& d : devices)
        if (typeRank(d.type) < typeRank(best->type)) best = &d;
    return best->index;
}

VulkanContext::VulkanContext() {
    VkApplicationInfo app{};
    app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
    app.pApplicationName = "Adjoint";
    app.pEngineName = "adjoint";
    app.apiVersion = VK_API_VERSION_1_1;
    VkInstanceCreateInfo ici{};
    ici.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
    ici.pApplicationInfo = &app;
#if ADJOINT_KEEP_DRIVERS_LOADED
    const std::set<std::string> before = loadedLibraries();
#endif
    const VkResult r = vkCreateInstance(&ici, nullptr, &instance_);
#if ADJOINT_KEEP_DRIVERS_LOADED
    keepLoadedSince(before);
#endif
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED)
        throw Error(std::string("Vulkan: no usable driver (") + resultName(r) +
                    "; is a Vulkan driver installed? VK_ICD_FILENAMES may point at nothing)");
    check(r, "vkCreateInstance");
    try {
        const std::vector<VkPhysicalDevice> devs = physicalDevices(instance_);
        std::vector<DeviceListing> usable;
        std::vector<VkPhysicalDevice> usableDevs;
        for (std::uint32_t i = 0; i < devs.size(); ++i) {
            std::uint32_t fam = 0;
            if (!computeQueueFamily(devs[i], fam)) continue;
            VkPhysicalDeviceProperties p;
            vkGetPhysicalDeviceProperties(devs[i], &p);
            usable.push_back({i, p.deviceName, p.deviceType});
            usableDevs.push_back(devs[i]);
        }
        const char* env = std::getenv("ADJOINT_VULKAN_DEVICE");
        const std::uint32_t chosen = chooseDevice(usable, env ? env : "");
        physical_ = devs[chosen];
        computeQueueFamily(physical_, queueFamily_);

        VkPhysicalDeviceSubgroupProperties sub{};
        sub.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
        VkPhysicalDeviceProperties2 props2{};
        props2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
        props2.pNext = &sub;
        vkGetPhysicalDeviceProperties2(physical_, &props2);
        const VkPhysicalDeviceProperties& p = props2.properties;
        VkPhysicalDeviceShaderFloat16Int8Features f16{};
        f16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES;
        VkPhysicalDevice16BitStorageFeatures s16{};
        s16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES;
        f16.pNext = &s16;
        VkPhysicalDeviceFeatures2 feats{};
        feats.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
        feats.pNext = &f16;
        vkGetPhysicalDeviceFeatures2(physical_, &feats);

        caps_.name = p.deviceName;
        caps_.type = p.deviceType;
        caps_.apiVersion = p.apiVersion;
        caps_.subgroupSize = sub.subgroupSize;
        caps_.subgroupArithmetic = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                                   (sub.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
                                   (sub.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT);
        caps_.shaderFloat16 = f16.shaderFloat16 == VK_TRUE;
        caps_.storage16 = s16.storageBuffer16BitAccess == VK_TRUE;
        caps_.maxWorkgroupSize = p.limits.maxComputeWorkGroupInvocations;
        for (int i = 0; i < 3; ++i) caps_.maxWorkgroupCount[i] = p.limits.maxComputeWorkGroupCount[i];
        caps_.maxSharedMemory = p.limits.maxComputeSharedMemorySize;
        caps_.maxPushConstants = p.limits.maxPushConstantsSize;
        caps_.maxStorageBufferRange = p.limits.maxStorageBufferRange;
        caps_.minStorageBufferOffsetAlignment = p.limits.minStorageBufferOffsetAlignment;
        vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
        for (std::uint32_t i = 0; i < memory_.memoryHeapCount; ++i)
            if (memory_.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) caps_.deviceLocalBytes += memory_.memoryHeaps[i].size;
        if (caps_.maxWorkgroupSize < 256 || caps_.maxSharedMemory < 16384)
            throw Error("Vulkan: device '" + caps_.name + "' is too small for the shaders (needs 256 invocations and 16 KiB shared memory per workgroup)");

        const float priority = 1.f;
        VkDeviceQueueCreateInfo qci{};
        qci.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
        qci.queueFamilyIndex = queueFamily_;
        qci.queueCount = 1;
        qci.pQueuePriorities = &priority;
        VkDeviceCreateInfo dci{};
        dci.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
        dci.queueCreateInfoCount = 1;
        dci.pQueueCreateInfos = &qci;
        check(vkCreateDevice(physical_, &dci, nullptr, &device_), "vkCreateDevice");
        vkGetDeviceQueue(device_, queueFamily_, 0, &queue_);
    } catch (...) {
        if (device_) vkDestroyDevice(device_, nullptr);
        vkDestroyInstance(instance_, nullptr);
        throw;
    }
}

VulkanContext::~VulkanContext() {
    if (device_) {
        vkDeviceWaitIdle(device_);
        vkDestroyDevice(device_, nullptr);
    }
    if (instance_) vkDestroyInstance(instance_, nullptr);
}

std::vector<DeviceListing> VulkanContext::listDevices() const {
    std::vector<DeviceListing> out;
    const auto devs = physicalDevices(instance_);
    for (std::uint32_t i = 0; i < devs.size(); ++i) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(devs[i], &p);
        out.push_back({i, p.deviceName, p.deviceType});
    }
    return out;
}

}  // namespace adj::vk
