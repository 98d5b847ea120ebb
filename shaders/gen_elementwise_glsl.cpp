// Build tool: writes adj_elementwise.glsl (the elementwise ops' GLSL functions, generated from
// engine/ir/ops.def) to the path given as its argument, for the build-time shader compile.
#include <cstdio>
#include <fstream>

#include "runtime/vulkan/elementwise_glsl.h"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: gen_elementwise_glsl OUT.glsl\n");
        return 2;
    }
    std::ofstream out(argv[1], std::ios::binary);
    out << adj::vk::elementwiseGlslSource();
    return out ? 0 : 1;
}
