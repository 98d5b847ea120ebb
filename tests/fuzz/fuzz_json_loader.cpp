// libFuzzer target: the JSON graph loader (engine/io/json_format), then verify and round trips.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        adj::Graph graph = adj::parseGraphJson(text, "fuzz.json", "/nonexistent", adj::fuzz::kFuzzMaxInitElements);
        adj::fuzz::exerciseLoadedGraph(graph);
    } catch (const adj::Error&) {
    }
    return 0;
}
