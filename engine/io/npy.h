#pragma once
// NumPy .npy tensors, the CLI's way in and out (see docs/FORMAT.md).
//
// Reading accepts format versions 1.0, 2.0 and 3.0, C order only, little-endian dtypes: '<f4',
// '<f8', '<f2', '<i8', '<i4', '<i2', '|i1', '|u1', '<u2', '<u4', '<u8' and '|b1'. By default the
// result is a contiguous F32 tensor (float32 bit for bit; float64 rounded; float16 exact; integers
// exact up to 2^24; bools 0 and 1: class labels and inputs of float graphs); read with
// NpyIntegers::Keep, a file keeps its own element type (token ids, indices, masks, f64 values).
// A malformed file never crashes and never makes
// the reader allocate more than the file's own data: bad magic, a header that is truncated, too
// long or unparsable, an unknown dtype, Fortran order, a negative or absurd shape (shapeIsSane),
// and data shorter or longer than the header says all throw FormatError with a message that
// starts with the file name and names the problem.
//
// Writing always produces version 1.0 in the tensor's own type (bf16, which NumPy lacks, as '<u2'
// holding its raw bits), C order, with the header padded (spaces and a
// final '\n') so that the data starts at a multiple of 64 bytes, as NumPy does. Writes are
// atomic (base/files.h): the bytes go to "<path>.tmp-XXXXXX", which is then renamed over `path`.
#include <string>

#include "tensor/tensor.h"

namespace adj {

/// What a file becomes: float32 values (the default) or a tensor of the file's own type.
enum class NpyIntegers { ToFloat, Keep };

/// Reads a .npy file. Throws FormatError ("x.npy: ...") when unreadable or malformed.
Tensor readNpy(const std::string& path, NpyIntegers ints = NpyIntegers::ToFloat);
/// Writes `t` (any type, any layout) as a .npy file of its type, atomically. Throws FormatError on
/// I/O failure or when `t` is undefined.
void writeNpy(const std::string& path, const Tensor& t);

/// Parses the bytes of a .npy file; `where` (a file name) starts every error message.
Tensor parseNpy(const std::string& bytes, const std::string& where, NpyIntegers ints = NpyIntegers::ToFloat);
/// The bytes of a .npy file holding `t` (same layout as writeNpy).
std::string encodeNpy(const Tensor& t);

}  // namespace adj
