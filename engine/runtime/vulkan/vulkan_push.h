#pragma once
// The push-constant struct of the shaders, from the one definition in shaders/adj_push.h.
#include <cstdint>

namespace adj::vk {
using uint = std::uint32_t;
#include "adj_push.h"
static_assert(sizeof(AdjPush) == 88, "AdjPush must match its GLSL block in shaders/adj_push.h (22 words)");
static_assert(sizeof(AdjPush) <= 128, "push constants beyond 128 bytes are not guaranteed by Vulkan");
}  // namespace adj::vk
