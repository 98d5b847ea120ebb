#pragma once
// Tensor = shared storage + offset + shape + strides (in elements). Transpose, permute, slice
// (with step), expand (stride 0), squeeze/unsqueeze and reshape-when-strides-allow are views:
// they share storage and never copy. contiguous() copies only when the layout needs it.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/half.h"
#include "tensor/shape.h"

namespace adj {

/// A 64-byte aligned block of bytes, shared between a tensor and its views.
class Storage {
public:
    explicit Storage(std::size_t bytes);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
    std::byte* data() { return data_; }
    const std::byte* data() const { return data_; }
    std::size_t bytes() const { return bytes_; }

private:
    std::byte* data_ = nullptr;
    std::size_t bytes_ = 0;
};

class Tensor {
public:
    Tensor() = default;  // an empty (undefined) tensor
    /// A new zero-filled contiguous tensor.
    static Tensor zeros(const Shape& shape, DType dtype = DType::F32);
    static Tensor full(const Shape& shape, float value);
    static Tensor scalar(float value) { return full({}, value); }
    /// A new contiguous tensor holding `values` (size must equal numel(shape)).
    static Tensor fromVector(const Shape& shape, const std::vector<float>& values);
    /// An uninitialised contiguous tensor.
    static Tensor empty(const Shape& shape, DType dtype = DType::F32);
    /// A new contiguous I64 tensor holding `values` (size must equal numel(shape)).
    static Tensor fromInts(const Shape& shape, const std::vector<std::int64_t>& values);

    bool defined() const { return storage_ != nullptr; }
    DType dtype() const { return dtype_; }
    const Shape& shape() const { return shape_; }
    const Strides& strides() const { return strides_; }
    std::int64_t offset() const { return offset_; }
    std::int64_t rank() const { return std::int64_t(shape_.size()); }
    std::int64_t dim(std::int64_t axis) const;
    std::int64_t numel() const { return adj::numel(shape_); }
    bool isContiguous() const;
    /// True when both tensors view the same storage.
    bool sharesStorageWith(const Tensor& other) const { return storage_ == other.storage_; }
    const std::shared_ptr<Storage>& storage() const { return storage_; }

    /// Pointer to the first element (storage + offset). Only for F32 tensors.
    float* data();
    const float* data() const;
    /// Pointer to the first element of an I64 tensor (std::logic_error for any other dtype).
    std::int64_t* i64();
    const std::int64_t* i64() const;
    /// The first element's bytes, whatever the element type (for kernels that only move elements).
    std::byte* bytes() { return storage_->data() + std::size_t(offset_) * dtypeSize(dtype_); }
    const std::byte* bytes() const { return storage_->data() + std::size_t(offset_) * dtypeSize(dtype_); }
    /// Pointer to the first element as T, which must be the element type's own (float for F32,
    /// std::int64_t for I64, std::int32_t for I32, std::uint8_t for Bool; std::logic_error else).
    template <class T>
    T* ptr();
    template <class T>
    const T* ptr() const { return const_cast<Tensor*>(this)->ptr<T>(); }
    /// Element at a multi-index, through the strides.
    float at(std::initializer_list<std::int64_t> index) const;
    float& at(std::initializer_list<std::int64_t> index);
    /// Element `i` in row-major logical order, through the strides (slow; for tests and tools).
    float flatAt(std::int64_t i) const;

    // ---- views: share storage, never copy ----
    Tensor transpose(std::int64_t a, std::int64_t b) const;
    Tensor permute(const std::vector<std::int64_t>& perm) const;
    /// Elements start, start+step, ... below stop along `axis` (step > 0).
    Tensor slice(std::int64_t axis, std::int64_t start, std::int64_t stop, std::int64_t step = 1) const;
    /// Broadcasts size-1 (or missing leading) dimensions to `shape` with stride 0.
    Tensor expand(const Shape& shape) const;
    Tensor squeeze(std::int64_t axis) const;
    Tensor unsqueeze(std::int64_t axis) const;
    /// A view when the strides allow it (see viewAs), otherwise a contiguous copy.
    Tensor reshape(const Shape& shape) const;
    /// The reshape as a view, or an undefined tensor when the layout does not allow one.
    Tensor viewAs(const Shape& shape) const;

    /// This tensor when already contiguous, otherwise a contiguous copy.
    Tensor contiguous() const;
    /// Always a fresh contiguous copy.
    Tensor clone() const;
    /// Values in row-major logical order (an integer or bool tensor's converted to float, exact
    /// below 2^24).
    std::vector<float> toVector() const;
    /// An I64, I32 or Bool tensor's values in row-major logical order (std::logic_error for a
    /// float tensor).
    std::vector<std::int64_t> toInts() const;
    /// Copies `src` (same shape and dtype) into this tensor's elements, whatever both layouts are.
    void copyFrom(const Tensor& src);

private:
    Tensor(std::shared_ptr<Storage> storage, DType dtype, Shape shape, Strides strides, std::int64_t offset);
    std::shared_ptr<Storage> storage_;
    DType dtype_ = DType::F32;
    Shape shape_;
    Strides strides_;
    std::int64_t offset_ = 0;
};

/// The element type that holds T (F32 for float, ..., Bool for std::uint8_t, which also holds U8).
template <class T>
constexpr DType dtypeOf();
template <> constexpr DType dtypeOf<float>() { return DType::F32; }
template <> constexpr DType dtypeOf<double>() { return DType::F64; }
template <> constexpr DType dtypeOf<Half>() { return DType::F16; }
template <> constexpr DType dtypeOf<BFloat16>() { return DType::BF16; }
template <> constexpr DType dtypeOf<std::int64_t>() { return DType::I64; }
template <> constexpr DType dtypeOf<std::int32_t>() { return DType::I32; }
template <> constexpr DType dtypeOf<std::int16_t>() { return DType::I16; }
template <> constexpr DType dtypeOf<std::int8_t>() { return DType::I8; }
template <> constexpr DType dtypeOf<std::uint64_t>() { return DType::U64; }
template <> constexpr DType dtypeOf<std::uint32_t>() { return DType::U32; }
template <> constexpr DType dtypeOf<std::uint16_t>() { return DType::U16; }
template <> constexpr DType dtypeOf<std::uint8_t>() { return DType::Bool; }

/// Whether T is the C++ type that stores `t`'s elements (std::uint8_t stores both U8 and Bool).
template <class T>
constexpr bool storesType(DType t) {
    return t == dtypeOf<T>() || (std::is_same_v<T, std::uint8_t> && t == DType::U8);
}

template <class T>
T* Tensor::ptr() {
    if (!storesType<T>(dtype_)) throw std::logic_error("element pointer of the wrong type for a " + std::string(dtypeName(dtype_)) + " tensor");
    return reinterpret_cast<T*>(storage_->data()) + offset_;
}

/// Calls f(outIndex, offsetA) for every element of `t` in row-major order, with offsets in elements
/// relative to t.data(). The workhorse for strided kernels.
template <class F>
void forEachOffset(const Shape& shape, const Strides& strides, F&& f) {
    const std::int64_t n = numel(shape);
    if (n == 0) return;
    const std::size_t r = shape.size();
    if (r == 0) { f(std::int64_t(0), std::int64_t(0)); return; }
    std::vector<std::int64_t> idx(r, 0);
    std::int64_t off = 0;
    const std::int64_t inner = shape[r - 1], innerStride = strides[r - 1];
    for (std::int64_t i = 0; i < n; i += inner) {
        for (std::int64_t j = 0; j < inner; ++j) f(i + j, off + j * innerStride);
        for (std::size_t d = r - 1; d-- > 0;) {
            off += strides[d];
            if (++idx[d] < shape[d]) break;
            off -= strides[d] * shape[d];
            idx[d] = 0;
        }
    }
}

}  // namespace adj
