#pragma once
// NumPy .npz archives, as numpy.savez writes them: an uncompressed ZIP whose members are
// "<key>.npy" files (io/npy.h). np.load(path)[key] reads each back. Written atomically.
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace adj {

/// Writes the tensors (F32 or I64) under their keys. Throws FormatError naming the path on I/O
/// failure, a duplicate key, or an archive past the 4 GiB a ZIP without its 64-bit extension holds.
void writeNpz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& entries);

}  // namespace adj
