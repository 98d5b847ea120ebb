#pragma once
// The push-constant structs of the shaders, one per shader family, from the one definition in
// shaders/adj_push.h; their sizes are checked here against the GLSL blocks' word counts.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace adj::vk {
using uint = std::uint32_t;
#include "adj_push.h"

/// The push-constant bytes every Vulkan device accepts (maxPushConstantsSize's guaranteed minimum).
inline constexpr std::size_t kPushConstantLimit = 128;

/// A push-constant struct of shaders/adj_push.h: 32-bit words only, the common head (n, rank)
/// first, within kPushConstantLimit.
template <class P>
concept PushConstants = std::is_trivially_copyable_v<P> && std::is_standard_layout_v<P> && sizeof(P) % 4 == 0 &&
                        sizeof(P) <= kPushConstantLimit &&
                        requires {
                            { P::kName } -> std::convertible_to<const char*>;
                        } && offsetof(P, n) == 0 && offsetof(P, rank) == 4;

/// What a pipeline keeps of its push-constant struct: the size (its layout's range) and the name
/// (checked against the struct a dispatch pushes).
struct PushInfo {
    std::uint32_t bytes = 0;
    const char* name = "";
};

template <PushConstants P>
constexpr PushInfo pushInfo() {
    return {std::uint32_t(sizeof(P)), P::kName};
}

static_assert(sizeof(PushElementwise) == 5 * 4, "PushElementwise must match its GLSL block in shaders/adj_push.h");
static_assert(sizeof(PushCopy) == 2 * 4, "PushCopy must match its GLSL block in shaders/adj_push.h");
static_assert(sizeof(PushFill) == 3 * 4, "PushFill must match its GLSL block in shaders/adj_push.h");
static_assert(sizeof(PushReduce) == 5 * 4, "PushReduce must match its GLSL block in shaders/adj_push.h");
static_assert(sizeof(PushGemm) == 8 * 4, "PushGemm must match its GLSL block in shaders/adj_push.h");
static_assert(sizeof(PushConv) == 19 * 4, "PushConv must match its GLSL block in shaders/adj_push.h");
static_assert(sizeof(PushPool) == 15 * 4, "PushPool must match its GLSL block in shaders/adj_push.h");
static_assert(sizeof(PushNorm) == 8 * 4, "PushNorm must match its GLSL block in shaders/adj_push.h");
// Each within the 128-byte limit, with the common head (the PushConstants concept).
static_assert(PushConstants<PushElementwise> && PushConstants<PushCopy> && PushConstants<PushFill> && PushConstants<PushReduce> &&
              PushConstants<PushGemm> && PushConstants<PushConv> && PushConstants<PushPool> && PushConstants<PushNorm>);

}  // namespace adj::vk
