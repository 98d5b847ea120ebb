#pragma once
// The shaders compiled at build time (shaders/CMakeLists.txt embeds their SPIR-V), looked up by
// variant name ("ew2", "reduce_sum_sg", "gemm"), and the shared GLSL headers as text for
// the kernels generated at run time.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace adj::vk {

struct EmbeddedShader {
    const char* name;
    const std::uint32_t* words;
    std::size_t wordCount;
};

/// Every embedded variant (generated file).
const std::vector<EmbeddedShader>& embeddedShaders();
/// The variant called `name`, or nullptr.
const EmbeddedShader* findShader(const std::string& name);
/// shaders/adj_common.glsl, shaders/adj_push.h and shaders/adj_math.glsl as text (generated file).
const char* embeddedCommonGlsl();
const char* embeddedPushHeader();
const char* embeddedMathGlsl();

}  // namespace adj::vk
