#include "runtime/vulkan/shader_registry.h"

#include <unordered_map>

namespace adj::vk {

const EmbeddedShader* findShader(const std::string& name) {
    static const std::unordered_map<std::string, const EmbeddedShader*> index = [] {
        std::unordered_map<std::string, const EmbeddedShader*> m;
        for (const auto& s : embeddedShaders()) m[s.name] = &s;
        return m;
    }();
    auto it = index.find(name);
    return it == index.end() ? nullptr : it->second;
}

}  // namespace adj::vk
