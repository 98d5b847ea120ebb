#pragma once
// Turning VkResult failures into adj::Error with the call and the result's name.
#include <string>

#include <vulkan/vulkan.h>

#include "base/errors.h"

namespace adj::vk {

/// "VK_ERROR_OUT_OF_DEVICE_MEMORY" and friends.
const char* resultName(VkResult r);

/// Throws adj::Error("Vulkan: <what> failed (<result>)") unless r is VK_SUCCESS.
inline void check(VkResult r, const char* what) {
    if (r != VK_SUCCESS) throw Error(std::string("Vulkan: ") + what + " failed (" + resultName(r) + ")");
}

}  // namespace adj::vk
