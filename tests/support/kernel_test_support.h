#pragma once
// Helpers of the CPU kernel tests (tst_cpu_kernels_*): data-driven rows as text, inputs in every
// layout (contiguous, transposed storage, sliced with step and offset, stride-0 broadcast),
// indexing through strides for the reference loops, and running one kernel on tensors.
#include <QString>

#include <cstdint>
#include <string>
#include <vector>

#include "ir/attributes.h"
#include "ir/op.h"
#include "tensor/tensor.h"
#include "test_support.h"

namespace adj::test {

using Index = std::vector<std::int64_t>;

/// "2x3x4" -> {2, 3, 4}; "" -> {} (a scalar).
Shape parseShape(const QString& s);
/// "0,-1,2" -> {0, -1, 2}; "" -> {}. "max"/"min" stand for INT64_MAX / INT64_MIN.
std::vector<std::int64_t> parseInts(const QString& s);
/// The op of that name (a fatal test error when there is none).
Op opNamed(const QString& name);

/// A small deterministic generator (LCG), the same on every platform.
struct Rng {
    std::uint32_t state;
    float next(float lo, float hi) {
        state = state * 1664525u + 1013904223u;
        return lo + (hi - lo) * float(state >> 8) / float(1u << 24);
    }
};

/// A contiguous tensor of random values in [lo, hi) (rounded with `integers`).
Tensor randomTensor(const Shape& s, Rng& rng, float lo, float hi, bool integers);

enum Layout { Contiguous = 0, Transposed = 1, Stepped = 2, Broadcast = 3 };

/// A tensor of shape `s` with random values in [lo, hi), laid out as `layout` says:
/// Transposed: stored in reversed axis order (a permute view); Stepped: every other element of a
/// larger tensor, starting at a non-zero offset; Broadcast: axis 0 has stride 0. With `integers`
/// the values are rounded (so that comparisons see ties and zeros).
Tensor makeInput(const Shape& s, int layout, std::uint32_t seed, float lo = -2.f, float hi = 2.f, bool integers = false);

/// The multi-index of row-major element i of shape s.
Index unravel(std::int64_t i, const Shape& s);
/// Element of t at a multi-index, through its strides.
float get(const Tensor& t, const Index& idx);
/// The index into a tensor of shape `s` that broadcasting maps the output index to.
Index broadcastIndex(const Index& out, const Shape& s);

/// Runs the CPU kernel of `op` (node name "t") on the inputs, with the given output shapes.
std::vector<Tensor> runOp(Op op, const Attributes& attrs, const std::vector<Tensor>& inputs, const std::vector<Shape>& outShapes);
/// runOp for an op with one output.
Tensor runOne(Op op, const Attributes& attrs, const std::vector<Tensor>& inputs, const Shape& outShape);

/// A contiguous tensor whose element at each multi-index is f(index).
template <class F>
Tensor tensorFrom(const Shape& s, F f) {
    Tensor t = Tensor::empty(s);
    for (std::int64_t i = 0; i < t.numel(); ++i) t.data()[i] = float(f(unravel(i, s)));
    return t;
}

}  // namespace adj::test

/// QVERIFY that two tensors are close (adj::test::allClose), with its message.
#define CHECK_CLOSE(got, want, rtol, atol)                                      \
    do {                                                                        \
        std::string why_;                                                       \
        QVERIFY2(adj::test::allClose((got), (want), (rtol), (atol), &why_), why_.c_str()); \
    } while (0)
