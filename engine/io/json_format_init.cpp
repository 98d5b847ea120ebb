// The project's deterministic generator for "init" tensors (docs/FORMAT.md, "init").
#include <algorithm>
#include <cmath>

#include "base/rng.h"
#include "io/json_format.h"
#include "io/json_format_text.h"

namespace adj {

Tensor initTensor(const Shape& shape, InitKind kind, double a, double b, std::uint64_t seed) {
    Tensor t = Tensor::empty(shape);
    float* p = t.data();
    const std::int64_t n = t.numel();
    SplitMix64 rng{seed};
    switch (kind) {
        case InitKind::Zeros: std::fill_n(p, n, 0.0f); break;
        case InitKind::Ones: std::fill_n(p, n, 1.0f); break;
        case InitKind::Uniform:
            for (std::int64_t i = 0; i < n; ++i) p[i] = json_io::toFloat32(a + (b - a) * rng.unit());
            break;
        case InitKind::Normal:
            for (std::int64_t i = 0; i < n; i += 2) {
                const double u1 = 1.0 - rng.unit();  // (0, 1]: log is finite
                const double u2 = rng.unit();
                const double r = std::sqrt(-2.0 * std::log(u1));
                const double theta = 6.283185307179586 * u2;
                p[i] = json_io::toFloat32(a + b * r * std::cos(theta));
                if (i + 1 < n) p[i + 1] = json_io::toFloat32(a + b * r * std::sin(theta));
            }
            break;
    }
    return t;
}

}  // namespace adj
