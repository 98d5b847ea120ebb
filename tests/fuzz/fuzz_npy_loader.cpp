// libFuzzer target: the .npy reader (engine/io/npy), which every --input goes through (both ways:
// integers as float32, and kept as int64 as for an i64 input).
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/errors.h"
#include "io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    try {
        adj::Tensor t = adj::parseNpy(bytes, "fuzz.npy");
        (void)t.numel();
        // as an i64 input reads it: integer files kept as int64
        adj::Tensor kept = adj::parseNpy(bytes, "fuzz.npy", adj::NpyIntegers::Keep);
        (void)kept.numel();
    } catch (const adj::Error&) {
    }
    return 0;
}
