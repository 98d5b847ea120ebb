#include "runtime/vulkan/elementwise_glsl.h"

namespace adj::vk {

std::string elementwiseGlslSource() {
    std::string s =
        "// Generated from engine/ir/ops.def (runtime/vulkan/elementwise_glsl.cpp): the scalar function of\n"
        "// every elementwise op, with the names of engine/runtime/elementwise_functions.h.\n"
        "#ifndef ADJ_ELEMENTWISE_GLSL\n#define ADJ_ELEMENTWISE_GLSL\n#include \"adj_math.glsl\"\n\n";
    std::string apply = "float ew_apply(uint op, float a, float b, float c, float alpha, float beta, float gamma) {\n    switch (op) {\n";
    unsigned index = 0;
#define OP(...) ++index;
#define EW(id, name, arity, groups, flops, attrs, onnx, expr, ...)                                                              \
    s += "float ew_" #id "(float a, float b, float c, float alpha, float beta, float gamma) { return " #expr "; }\n";     \
    apply += "        case " + std::to_string(index) + "u: return ew_" #id "(a, b, c, alpha, beta, gamma);\n";                 \
    ++index;
#include "ir/ops.def"
#undef OP
#undef EW
    s += "\n" + apply + "    }\n    return 0.0;\n}\n\n#endif\n";
    return s;
}

}  // namespace adj::vk
