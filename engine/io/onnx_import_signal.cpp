// Handlers of ONNX's signal ops that make constants known while importing:
//   HannWindow, HammingWindow, BlackmanWindow  the window of `size` points (periodic or
//            symmetric), a constant: `size` must be known while importing (a constant, or a graph
//            input given to `run`, to which the graph is then specialized)
#include <cmath>
#include <numbers>

#include "io/onnx_import_ops.h"

namespace adj::onnx_io::ops {

void window(Importer& I, char kind) {
    const Ints size = I.constInts(0, "size");
    if (size.size() != 1) I.fail("size must be a scalar");
    if (size[0] < 0 || size[0] > kMaxIntResult) I.fail("a window of " + std::to_string(size[0]) + " points is not supported");
    const std::int64_t n = size[0];
    const int outType = int(I.attrInt("output_datatype", onnx::TensorProto::FLOAT));
    const std::optional<DType> type = dtypeOfOnnx(outType);
    if (!type || (*type != DType::F32 && *type != DType::F64)) I.fail("output_datatype " + dataTypeName(outType) + " is not supported (FLOAT and DOUBLE are)");
    // w[k] = a0 - a1 cos(2 pi k / N) + a2 cos(4 pi k / N), N = n (periodic) or n - 1 (symmetric)
    const double N = I.attrInt("periodic", 1) != 0 ? double(n) : double(n - 1);
    double a0 = 0.5, a1 = 0.5, a2 = 0;
    if (kind == 'm') a0 = 25.0 / 46.0, a1 = 1.0 - a0;
    if (kind == 'b') a0 = 0.42, a1 = 0.5, a2 = 0.08;
    std::vector<double> w(static_cast<std::size_t>(n));
    for (std::int64_t k = 0; k < n; ++k) {
        const double x = N > 0 ? 2.0 * std::numbers::pi * double(k) / N : 0.0;
        w[std::size_t(k)] = a0 - a1 * std::cos(x) + a2 * std::cos(2.0 * x);
    }
    if (*type == DType::F32) {
        I.bindPending(I.out(), Tensor::fromVector({n}, std::vector<float>(w.begin(), w.end())));
        return;
    }
    Tensor t = Tensor::empty({n}, DType::F64);
    std::copy(w.begin(), w.end(), t.ptr<double>());
    I.bindIndices(I.out(), I.constantNode(t, I.out()));
}

}  // namespace adj::onnx_io::ops
