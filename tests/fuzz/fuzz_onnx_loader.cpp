// libFuzzer target: the ONNX importer (engine/io/onnx_import), then verify and round trips.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    try {
        adj::Graph graph = adj::parseGraphOnnx(bytes, "fuzz.onnx");
        adj::fuzz::exerciseLoadedGraph(graph);
    } catch (const adj::Error&) {
    }
    return 0;
}
