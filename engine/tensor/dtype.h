#pragma once
// Element types. Float32 is what every op computes with and what gradients flow through. The
// others are values of their own type, stored and computed as such where ir/element_types.h
// says so:
//   - integers (i64, i32, i16, i8, u64, u32, u16, u8) and bool: data movement, integer arithmetic
//     in the type's own width (wrap-around), comparisons, bit shifts, cast;
//   - f64: computed in double (elementwise ops, matmul, reductions, data movement, cast);
//   - f16 and bf16: stored as 16 bits; elementwise ops widen each element to f32, compute and
//     round back to nearest even (exact for +, -, *, /, sqrt, max, min and mod: f32 holds more than
//     twice their precision), cast rounds to nearest even.
// New types are appended: the enum's values are never stored, but keep them stable anyway.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace adj {

enum class DType : std::uint8_t { F32, F16, BF16, I64, I32, Bool, F64, I8, U8, I16, U16, U32, U64 };

/// Every element type, in the enum's order.
inline constexpr DType kAllDTypes[] = {DType::F32, DType::F16, DType::BF16, DType::I64, DType::I32, DType::Bool, DType::F64,
                                       DType::I8,  DType::U8,  DType::I16,  DType::U16, DType::U32, DType::U64};

/// An integer type (signed or unsigned, any width); not bool.
inline bool isInteger(DType t) {
    return t == DType::I64 || t == DType::I32 || t == DType::I16 || t == DType::I8 || t == DType::U64 || t == DType::U32 || t == DType::U16 ||
           t == DType::U8;
}
/// An integer type or bool: values that are whole numbers.
inline bool isIntegral(DType t) { return isInteger(t) || t == DType::Bool; }
/// F32, F64, F16 or BF16.
inline bool isFloating(DType t) { return t == DType::F32 || t == DType::F64 || t == DType::F16 || t == DType::BF16; }
/// F16 or BF16: 16-bit storage, computed in f32 and rounded back.
inline bool isHalf(DType t) { return t == DType::F16 || t == DType::BF16; }
inline bool isUnsigned(DType t) { return t == DType::U64 || t == DType::U32 || t == DType::U16 || t == DType::U8 || t == DType::Bool; }

std::size_t dtypeSize(DType t);
/// The short name used in files and messages: "f32", "f64", "i64", "u8", "bool"...
std::string_view dtypeName(DType t);
std::optional<DType> dtypeFromName(std::string_view name);

}  // namespace adj
