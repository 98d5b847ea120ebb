#pragma once
// Helpers shared by the files that record ops (vulkan_ops.cpp, vulkan_ops_nn.cpp): errors that
// name the node, dispatch sizes, broadcast and permuted views, and one elementwise dispatch.
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/vulkan/vulkan_ops.h"

namespace adj::vk::detail {

/// Throws adj::Error "node 'NAME' (op) on Vulkan: what".
[[noreturn]] void fail(const Node& n, const std::string& what);
/// Workgroups for `items` work items at `perGroup` each, clamped to [1, 65535] (shaders loop).
std::uint32_t groupsFor(std::int64_t items, std::int64_t perGroup);
/// `axis` normalized to [0, rank), or an error naming the node.
std::int64_t axisOf(const Node& n, std::int64_t axis, std::int64_t rank);
/// Strides of `t` read as `out` under NumPy broadcasting (stride 0 on broadcast dimensions).
Strides broadcastStrides(const Node& n, const DevTensor& t, const Shape& out);
/// The view of `t` with its dimensions in the order `perm`.
DevTensor permuted(const DevTensor& t, const std::vector<std::int64_t>& perm);
/// Runs an elementwise kernel (built-in or generated) of out = f(inputs) with broadcasting; its
/// push constants are PushElementwise, with `params` as the op's alpha, beta and gamma.
void runElementwise(OpEnv& env, const Node& n, const Kernel& k, const DevTensor& out, const std::vector<DevTensor>& ins,
                    const EwParams& params = {0.f, 0.f, 0.f});

}  // namespace adj::vk::detail

namespace adj::vk {

/// max_pool, avg_pool and their derivative ops (shaders/pool.comp), one dispatch each.
std::vector<DevTensor> recordPool(OpEnv& env, const Node& n, const std::vector<DevTensor>& ins, const Shape& outShape);
/// layernorm (one dispatch) and batchnorm (per-channel statistics, then y = x * a + b), with
/// shaders/norm.comp.
std::vector<DevTensor> recordNorm(OpEnv& env, const Node& n, const std::vector<DevTensor>& ins, const Shape& outShape);

}  // namespace adj::vk
