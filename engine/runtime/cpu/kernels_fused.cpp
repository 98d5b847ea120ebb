// The fusion-group kernel: one pass over the output in tiles of kFusedTile elements. Each tile
// gathers its inputs (contiguous inputs are read in place), runs the program instruction by
// instruction over small per-thread register buffers that stay in cache, and writes only the last
// register to the output. Intermediates never reach memory.
#include <tbb/enumerable_thread_specific.h>

#include <stdexcept>

#include "ir/fused_program.h"
#include "runtime/cpu/cpu_kernels.h"
#include "runtime/cpu/kernel_util.h"
#include "runtime/elementwise_functions.h"

namespace adj::cpu {

namespace {

constexpr std::int64_t kFusedTile = 512;

enum class InKind { Contiguous, Scalar, Strided };

struct FusedInput {
    Tensor view;  // expanded to the output shape
    InKind kind = InKind::Contiguous;
    const float* data = nullptr;
};

template <int N, class F>
[[gnu::always_inline]] inline void loopN(float* o, const float* const* a, std::int64_t n, F f) {
    if constexpr (N == 1) {
        const float* x = a[0];
        for (std::int64_t j = 0; j < n; ++j) o[j] = f(x[j]);
    } else if constexpr (N == 2) {
        const float *x = a[0], *y = a[1];
        for (std::int64_t j = 0; j < n; ++j) o[j] = f(x[j], y[j]);
    } else {
        const float *x = a[0], *y = a[1], *z = a[2];
        for (std::int64_t j = 0; j < n; ++j) o[j] = f(x[j], y[j], z[j]);
    }
}

}  // namespace

// Cloned for AVX2 and chosen at load time (GNU ifunc): a fused group keeps its data in cache, so
// it is bound by arithmetic, and 8 lanes instead of SSE's 4 is most of its speed. The elementwise
// kernels use it too for contiguous operands, so fused and unfused run the same code. Not under the
// sanitizers: the ifunc resolver runs while the dynamic loader relocates, before their runtime exists.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("avx2", "default")))
#endif
void applyElementwise(const Node& node, Op op, const EwParams& params, float* o, const float* const* a, std::int64_t n) {
    if (!hasScalarExpr(op)) detail::fail(node, "op '" + std::string(opName(op)) + "' cannot appear in a fused program");
    visitElementwise(op, params, [&](auto arity, auto f) __attribute__((always_inline)) { loopN<arity>(o, a, n, withArity<arity>(f)); });
}

namespace {

/// Copies elements [begin, begin + n) (row-major order of `t`'s shape) of a strided tensor.
void gather(const Tensor& t, std::int64_t begin, std::int64_t n, float* dst) {
    const Shape& shape = t.shape();
    const Strides& st = t.strides();
    const float* d = t.data();
    const std::size_t r = shape.size();
    std::vector<std::int64_t> idx(r, 0);
    std::int64_t rem = begin, off = 0;
    for (std::size_t k = r; k-- > 0;) {
        idx[k] = rem % shape[k];
        rem /= shape[k];
        off += idx[k] * st[k];
    }
    const std::int64_t innerStride = st[r - 1], inner = shape[r - 1];
    for (std::int64_t j = 0; j < n; ++j) {
        dst[j] = d[off];
        if (++idx[r - 1] < inner) {
            off += innerStride;
            continue;
        }
        off -= innerStride * (inner - 1);
        idx[r - 1] = 0;
        for (std::size_t k = r - 1; k-- > 0;) {
            off += st[k];
            if (++idx[k] < shape[k]) break;
            off -= st[k] * shape[k];
            idx[k] = 0;
        }
    }
}

}  // namespace

void fusedKernel(KernelCall& call) {
    const Node& node = call.node;
    const FusedProgram prog = parseFusedProgram(node.attrs.getString(node.op, "program"), int(call.inputs.size()));
    const Shape& shape = call.outTypes[0].shape;
    call.outputs.clear();
    newOutput(call, 0, shape);
    float* out = call.outputs[0].data();
    const std::int64_t total = numel(shape);
    if (total == 0) return;

    std::vector<FusedInput> ins(call.inputs.size());
    for (std::size_t k = 0; k < ins.size(); ++k) {
        const Tensor& t = call.inputs[k];
        try {
            ins[k].view = t.shape() == shape ? t : t.expand(shape);
        } catch (const std::invalid_argument&) {
            detail::fail(node, "input " + std::to_string(k) + " of shape " + shapeToString(t.shape()) +
                                   " does not broadcast to the output shape " + shapeToString(shape));
        }
        const Tensor& v = ins[k].view;
        ins[k].data = v.data();
        if (t.numel() == 1) ins[k].kind = InKind::Scalar;
        else if (v.isContiguous()) ins[k].kind = InKind::Contiguous;
        else ins[k].kind = InKind::Strided;
    }
    const std::size_t nregs = prog.instrs.size();
    const std::size_t nins = ins.size();
    // per thread: one tile per register, one per input (scalars are filled once)
    struct Scratch {
        std::vector<float> buf;
        bool scalarsFilled = false;
    };
    tbb::enumerable_thread_specific<Scratch> scratch([&] {
        Scratch s;
        s.buf.resize((nregs + nins) * std::size_t(kFusedTile));
        return s;
    });
    const std::int64_t tiles = (total + kFusedTile - 1) / kFusedTile;
    detail::parallelFor(tiles, kFusedTile * std::int64_t(nregs), [&](std::int64_t t0, std::int64_t t1) {
        Scratch& s = scratch.local();
        float* regBase = s.buf.data();
        float* inBase = regBase + nregs * std::size_t(kFusedTile);
        if (!s.scalarsFilled) {
            for (std::size_t k = 0; k < nins; ++k)
                if (ins[k].kind == InKind::Scalar) std::fill_n(inBase + k * std::size_t(kFusedTile), kFusedTile, ins[k].data[0]);
            s.scalarsFilled = true;
        }
        std::vector<const float*> inPtr(nins), args;
        for (std::int64_t tile = t0; tile < t1; ++tile) {
            const std::int64_t begin = tile * kFusedTile;
            const std::int64_t n = std::min(kFusedTile, total - begin);
            for (std::size_t k = 0; k < nins; ++k) {
                float* slot = inBase + k * std::size_t(kFusedTile);
                switch (ins[k].kind) {
                    case InKind::Contiguous: inPtr[k] = ins[k].data + begin; break;
                    case InKind::Scalar: inPtr[k] = slot; break;
                    case InKind::Strided:
                        gather(ins[k].view, begin, n, slot);
                        inPtr[k] = slot;
                        break;
                }
            }
            for (std::size_t i = 0; i < nregs; ++i) {
                const FusedInstr& ins_i = prog.instrs[i];
                args.clear();
                for (const auto& a : ins_i.args)
                    args.push_back(a.isInput ? inPtr[std::size_t(a.index)] : regBase + std::size_t(a.index) * std::size_t(kFusedTile));
                float* dst = i + 1 == nregs ? out + begin : regBase + i * std::size_t(kFusedTile);
                applyElementwise(node, ins_i.op, ins_i.params, dst, args.data(), n);
            }
        }
    });
}

}  // namespace adj::cpu
