#pragma once
// Turning VkResult failures into adj::Error with the call and the result's name.
#include <string>

#include <vulkan/vulkan.h>

#include "runtime/executor.h"

namespace adj::vk {

/// "VK_ERROR_OUT_OF_DEVICE_MEMORY" and friends.
const char* resultName(VkResult r);

/// Throws adj::DeviceError("Vulkan: <what> failed (<result>)") unless r is VK_SUCCESS: every
/// failed Vulkan call is the device's failure, not the graph's.
inline void check(VkResult r, const char* what) {
    if (r != VK_SUCCESS) throw DeviceError(std::string("Vulkan: ") + what + " failed (" + resultName(r) + ")");
}

/// Fault injection, for the tests of what happens when a device fails mid-run: from the
/// `afterSubmits`-th queue submission on (counting from this call, 1 = the next one), every
/// submission fails with `result` as on a lost device. 0 turns it off. Process-wide; the shipped
/// programs never call it.
void injectSubmitFailure(int afterSubmits, VkResult result = VK_ERROR_DEVICE_LOST);
/// VK_SUCCESS, or the injected failure when one is due (called before each vkQueueSubmit).
VkResult injectedSubmitResult();

}  // namespace adj::vk
