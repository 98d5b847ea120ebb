#include "runtime/vulkan/glsl_compiler.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "base/errors.h"
#include "runtime/vulkan/elementwise_glsl.h"
#include "runtime/vulkan/fusion_codegen.h"
#include "runtime/vulkan/shader_registry.h"

#ifdef ADJOINT_HAVE_SHADERC
#include <shaderc/shaderc.h>
#endif

namespace adj::vk {
namespace {

const std::map<std::string, std::string>& sharedHeaders() {
    static const std::map<std::string, std::string> headers{{"adj_common.glsl", embeddedCommonGlsl()},
                                                            {"adj_push.h", embeddedPushHeader()},
                                                            {"adj_math.glsl", embeddedMathGlsl()},
                                                            {"adj_elementwise.glsl", elementwiseGlslSource()}};
    return headers;
}

}  // namespace

std::string kernelCacheKey(const std::string& source) {
    std::string all = source;
    for (const auto& [name, text] : sharedHeaders()) all += "\n//" + name + "\n" + text;
    return sourceHash(all);
}

namespace {

bool isSpirv(const std::vector<std::uint32_t>& words) { return words.size() >= 5 && words[0] == 0x07230203u; }

#ifdef ADJOINT_HAVE_SHADERC

/// One compiler and one set of options for the process (released at exit).
struct Shaderc {
    shaderc_compiler_t compiler = shaderc_compiler_initialize();
    shaderc_compile_options_t options = shaderc_compile_options_initialize();
    std::mutex mutex;

    struct Include {
        shaderc_include_result result;
        std::string name, text;
    };
    static shaderc_include_result* resolve(void*, const char* requested, int, const char*, std::size_t) {
        auto* inc = new Include;
        const auto& headers = sharedHeaders();
        if (auto it = headers.find(requested); it != headers.end()) {
            inc->name = requested;
            inc->text = it->second;
        } else {
            inc->text = std::string("no such header (kernels may include adj_common.glsl, adj_push.h, adj_math.glsl, adj_elementwise.glsl)");
        }
        inc->result = {inc->name.c_str(), inc->name.size(), inc->text.c_str(), inc->text.size(), inc};
        return &inc->result;
    }
    static void release(void*, shaderc_include_result* r) { delete static_cast<Include*>(r->user_data); }

    Shaderc() {
        shaderc_compile_options_set_target_env(options, shaderc_target_env_vulkan, shaderc_env_version_vulkan_1_1);
        shaderc_compile_options_set_optimization_level(options, shaderc_optimization_level_performance);
        shaderc_compile_options_set_include_callbacks(options, resolve, release, nullptr);
    }
    ~Shaderc() {
        shaderc_compile_options_release(options);
        shaderc_compiler_release(compiler);
    }
    Shaderc(const Shaderc&) = delete;
    Shaderc& operator=(const Shaderc&) = delete;
};

std::vector<std::uint32_t> compileWithLibrary(const std::string& source, const std::string& what) {
    static Shaderc sc;
    const std::lock_guard<std::mutex> lock(sc.mutex);
    if (!sc.compiler || !sc.options) throw Error("Vulkan: the shaderc library did not initialize (compiling the kernel of '" + what + "')");
    shaderc_compilation_result_t r =
        shaderc_compile_into_spv(sc.compiler, source.data(), source.size(), shaderc_compute_shader, "kernel.comp", "main", sc.options);
    std::vector<std::uint32_t> words;
    std::string message;
    if (shaderc_result_get_compilation_status(r) == shaderc_compilation_status_success) {
        const std::size_t bytes = shaderc_result_get_length(r);
        words.resize(bytes / 4);
        std::memcpy(words.data(), shaderc_result_get_bytes(r), words.size() * 4);
    } else {
        message = shaderc_result_get_error_message(r);
    }
    shaderc_result_release(r);
    if (!isSpirv(words)) throw Error("Vulkan: compiling the generated kernel of '" + what + "' with the shaderc library failed: " + message);
    return words;
}

#else

std::vector<std::uint32_t> compileWithProgram(const std::string& source, const std::string& what) {
    namespace fs = std::filesystem;
    std::string base = cacheDirectory();
    if (base.empty()) base = fs::temp_directory_path().string();
    const fs::path dir = fs::path(base) / "glsl" / kernelCacheKey(source);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error("Vulkan: cannot create " + dir.string() + " to compile the kernel of '" + what + "'");
    auto write = [&](const std::string& name, const std::string& text) { std::ofstream(dir / name, std::ios::binary) << text; };
    for (const auto& [name, text] : sharedHeaders()) write(name, text);
    write("kernel.comp", source);
    const fs::path spv = dir / "kernel.spv", log = dir / "glslc.log";
    const std::string cmd = std::string("\"") + ADJOINT_GLSLC + "\" --target-env=vulkan1.1 -O -I \"" + dir.string() + "\" -o \"" + spv.string() +
                            "\" \"" + (dir / "kernel.comp").string() + "\" > \"" + log.string() + "\" 2>&1";
    const int rc = std::system(cmd.c_str());
    std::vector<std::uint32_t> words;
    std::ifstream in(spv, std::ios::binary);
    const auto bytes = fs::exists(spv, ec) ? fs::file_size(spv, ec) : 0;
    if (rc == 0 && in && bytes >= 20 && bytes % 4 == 0) {
        words.resize(bytes / 4);
        in.read(reinterpret_cast<char*>(words.data()), std::streamsize(bytes));
    }
    if (!isSpirv(words)) {
        std::ifstream l(log);
        std::ostringstream msg;
        msg << l.rdbuf();
        throw Error("Vulkan: compiling the generated kernel of '" + what + "' with " + ADJOINT_GLSLC + " failed: " + msg.str());
    }
    fs::remove_all(dir, ec);
    return words;
}

#endif

}  // namespace

std::vector<std::uint32_t> compileGlsl(const std::string& source, const std::string& what) {
#ifdef ADJOINT_HAVE_SHADERC
    return compileWithLibrary(source, what);
#else
    return compileWithProgram(source, what);
#endif
}

std::string glslCompilerName() {
#ifdef ADJOINT_HAVE_SHADERC
    return "the shaderc library";
#else
    return std::string("the glslc program (") + ADJOINT_GLSLC + ")";
#endif
}

}  // namespace adj::vk
