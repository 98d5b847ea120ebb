#pragma once
// Element types. Float32 is what the ops compute with; int64 and int32 values (token ids,
// shapes, indices) and bool values (masks) flow through data movement, integer arithmetic,
// comparisons and cast (ir/op.h, valueTypesOf). F16 and BF16 are named so that files can say what
// they hold; no op computes with them (an import refuses them).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace adj {

enum class DType : std::uint8_t { F32, F16, BF16, I64, I32, Bool };

/// I64, I32 or Bool.
inline bool isIntegral(DType t) { return t == DType::I64 || t == DType::I32 || t == DType::Bool; }

std::size_t dtypeSize(DType t);
std::string_view dtypeName(DType t);
std::optional<DType> dtypeFromName(std::string_view name);

}  // namespace adj
