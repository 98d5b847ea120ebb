#pragma once
// Fusion groups as generated GLSL (the lecture's "compilation"): the program of a `fused` node
// becomes one compute kernel that reads each input once through its strides, keeps every
// intermediate in a register and writes the output once. The source is compiled at run time
// (glsl_compiler.h: the shaderc library, or the glslc program where the library is missing) and
// cached by a hash of its text, in memory and on disk (cacheDirectory()/fused/), so a kernel
// compiles once per machine. The source stays available for the GUI to show; its header names the
// compiler.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ir/fused_program.h"
#include "runtime/vulkan/glsl_compiler.h"

namespace adj {

/// The GLSL compute shader for a fused program over `inputCount` inputs. Pure and deterministic
/// (same program, same text), so its hash names its SPIR-V. Throws GraphError for a bad program.
std::string generateFusedKernelSource(const std::string& programText, int inputCount);

namespace vk {

/// FNV-1a 64 of the text, as 16 hex digits.
std::string sourceHash(const std::string& text);

/// Where Adjoint keeps compiled kernels and the pipeline cache: $ADJOINT_CACHE_DIR, else
/// $XDG_CACHE_HOME/adjoint, else $HOME/.cache/adjoint (created on demand; "" when none works).
std::string cacheDirectory();

/// SPIR-V of generated kernels by source hash: memory first, then the disk cache, then compileGlsl.
class FusedKernelCache {
public:
    struct Stats {
        int compiled = 0, fromDisk = 0, fromMemory = 0;
    };
    const std::vector<std::uint32_t>& spirv(const std::string& source, const std::string& what);
    Stats stats() const { return stats_; }

private:
    std::mutex mutex_;
    std::map<std::string, std::vector<std::uint32_t>> memory_;
    Stats stats_;
};

}  // namespace vk
}  // namespace adj
