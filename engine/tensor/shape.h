#pragma once
// Shapes and strides (both in elements), and the broadcasting rule shared by shape inference,
// kernels and autodiff.
#include <cstdint>
#include <string>
#include <vector>

namespace adj {

using Shape = std::vector<std::int64_t>;
using Strides = std::vector<std::int64_t>;

/// Largest element count a tensor may have (2^34 floats = 64 GiB): anything above is a file lying.
inline constexpr std::int64_t kMaxElements = std::int64_t(1) << 34;
/// Largest rank accepted anywhere.
inline constexpr int kMaxRank = 8;

/// Number of elements; 1 for a scalar (rank 0).
std::int64_t numel(const Shape& s);
/// Row-major (C order) strides for a shape.
Strides contiguousStrides(const Shape& s);
/// "[2, 3, 4]"
std::string shapeToString(const Shape& s);
/// NumPy broadcasting of two shapes; returns false when they do not broadcast.
bool broadcastShapes(const Shape& a, const Shape& b, Shape& out);
/// Normalizes a possibly negative axis for a tensor of the given rank; false when out of range.
bool normalizeAxis(std::int64_t& axis, std::int64_t rank);
/// True when every dimension is in [0, kMaxElements] and the product of the nonzero dimensions
/// stays within kMaxElements (so that strides fit, even for an empty tensor such as [0, 10^10, 10^10]).
bool shapeIsSane(const Shape& s);

}  // namespace adj
