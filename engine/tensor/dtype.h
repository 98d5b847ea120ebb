#pragma once
// Element types. Compute is float32 today; the enum is ready for the others so that files,
// shaders and kernels can name them without a format change.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace adj {

enum class DType : std::uint8_t { F32, F16, BF16, I64, I32 };

std::size_t dtypeSize(DType t);
std::string_view dtypeName(DType t);
std::optional<DType> dtypeFromName(std::string_view name);

}  // namespace adj
