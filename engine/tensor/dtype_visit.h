#pragma once
// Calls a generic function with the C++ type that holds each element type, the one switch over
// DType that typed kernels and conversions share.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "tensor/dtype.h"
#include "tensor/half.h"

namespace adj {

template <class T, DType D>
struct TypeTag {
    using type = T;
    static constexpr DType dtype = D;
};

/// As visitDType, for integer types only (std::logic_error for another).
template <class F>
decltype(auto) visitIntegerDType(DType t, F&& f) {
    switch (t) {
        case DType::I64: return f(TypeTag<std::int64_t, DType::I64>{});
        case DType::I32: return f(TypeTag<std::int32_t, DType::I32>{});
        case DType::I16: return f(TypeTag<std::int16_t, DType::I16>{});
        case DType::I8: return f(TypeTag<std::int8_t, DType::I8>{});
        case DType::U64: return f(TypeTag<std::uint64_t, DType::U64>{});
        case DType::U32: return f(TypeTag<std::uint32_t, DType::U32>{});
        case DType::U16: return f(TypeTag<std::uint16_t, DType::U16>{});
        case DType::U8: return f(TypeTag<std::uint8_t, DType::U8>{});
        default: break;
    }
    throw std::logic_error("not an integer type: " + std::string(dtypeName(t)));
}

/// f(TypeTag<T, D>{}) for t's storage type T (bool: std::uint8_t, f16: Half, bf16: BFloat16).
template <class F>
decltype(auto) visitDType(DType t, F&& f) {
    switch (t) {
        case DType::F32: return f(TypeTag<float, DType::F32>{});
        case DType::F64: return f(TypeTag<double, DType::F64>{});
        case DType::F16: return f(TypeTag<Half, DType::F16>{});
        case DType::BF16: return f(TypeTag<BFloat16, DType::BF16>{});
        case DType::Bool: return f(TypeTag<std::uint8_t, DType::Bool>{});
        default: return visitIntegerDType(t, std::forward<F>(f));
    }
}

}  // namespace adj
