#pragma once
// GLSL to SPIR-V at run time, for the generated fusion kernels. Built with the shaderc library
// where CMake found it (libshaderc_combined.a over the static glslang and SPIRV-Tools; see
// engine/CMakeLists.txt for why not libshaderc.so), otherwise by running the glslc program. The
// shared headers adj_common.glsl and adj_push.h are available to #include.
#include <cstdint>
#include <string>
#include <vector>

namespace adj::vk {

/// Compiles a compute shader for Vulkan 1.1 with optimization. Throws adj::Error with the
/// compiler's message, naming `what` (the node whose kernel it is).
std::vector<std::uint32_t> compileGlsl(const std::string& source, const std::string& what);

/// A key for the compiled form of `source`: a hash of it and of the shared headers it may
/// include, so that a cached kernel is never reused after a header (adj_math.glsl) changed.
std::string kernelCacheKey(const std::string& source);

/// What compileGlsl uses, for people: "the shaderc library" or "the glslc program (PATH)".
std::string glslCompilerName();

}  // namespace adj::vk
