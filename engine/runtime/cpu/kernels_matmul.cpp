// MatMul (NumPy semantics, broadcast batch dims) and Gemm, on the packed GEMM (gemm_packed.h),
// which reads transposed and broadcast operands through their strides without copying them.
#include <algorithm>
#include <stdexcept>

#include "runtime/cpu/cpu_kernels.h"
#include "runtime/cpu/gemm_packed.h"
#include "runtime/cpu/kernel_util.h"

namespace adj::cpu {

void detail::gemmRowMajor(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda, const float* B,
                          std::int64_t ldb, float* C, std::int64_t ldc) {
    gemmStrided(M, N, K, A, lda, 1, B, ldb, 1, C, ldc);
}

namespace {

using detail::fail;

/// Offsets (in elements) of each broadcast batch entry of `t` (expanded to batch + 2 matrix dims).
std::vector<std::int64_t> batchOffsets(const Tensor& t, const Shape& batch) {
    const std::int64_t count = numel(batch);
    std::vector<std::int64_t> offs(std::size_t(count), 0);
    const Strides& st = t.strides();
    for (std::int64_t b = 0; b < count; ++b) {
        std::int64_t rem = b, off = 0;
        for (std::size_t d = batch.size(); d-- > 0;) {
            off += (rem % batch[d]) * st[d];
            rem /= batch[d];
        }
        offs[std::size_t(b)] = off;
    }
    return offs;
}

void matmul(KernelCall& call) {
    const Node& n = call.node;
    const Tensor& A = call.inputs[0];
    const Tensor& B = call.inputs[1];
    if (A.rank() < 1 || B.rank() < 1) fail(n, "operands must have rank >= 1");
    const Tensor A2 = A.rank() == 1 ? A.unsqueeze(0) : A;
    const Tensor B2 = B.rank() == 1 ? B.unsqueeze(1) : B;
    const std::int64_t M = A2.dim(-2), K = A2.dim(-1), KB = B2.dim(-2), N = B2.dim(-1);
    if (K != KB)
        fail(n, "inner dimensions differ: " + shapeToString(A.shape()) + " x " + shapeToString(B.shape()));
    const Shape batchA(A2.shape().begin(), A2.shape().end() - 2);
    const Shape batchB(B2.shape().begin(), B2.shape().end() - 2);
    Shape batch;
    if (!broadcastShapes(batchA, batchB, batch))
        fail(n, "batch dimensions do not broadcast: " + shapeToString(A.shape()) + " x " + shapeToString(B.shape()));
    Shape outFull = batch;
    outFull.push_back(M);
    outFull.push_back(N);
    const Shape& outShape = call.outTypes[0].shape;
    if (numel(outShape) != numel(outFull))
        fail(n, "output shape " + shapeToString(outShape) + " does not match " + shapeToString(outFull));

    Tensor& out = newOutput(call, 0, outShape);
    if (out.numel() == 0) return;
    if (K == 0) {
        std::fill_n(out.data(), out.numel(), 0.f);
        return;
    }
    Shape shapeA = batch, shapeB = batch;
    shapeA.insert(shapeA.end(), {M, K});
    shapeB.insert(shapeB.end(), {K, N});
    const Tensor Ae = A2.expand(shapeA);
    const Tensor Be = B2.expand(shapeB);
    const std::vector<std::int64_t> offA = batchOffsets(Ae, batch), offB = batchOffsets(Be, batch);
    const std::size_t r = Ae.shape().size();
    const std::int64_t rsA = Ae.strides()[r - 2], csA = Ae.strides()[r - 1], rsB = Be.strides()[r - 2], csB = Be.strides()[r - 1];
    const float* a = Ae.data();
    const float* b = Be.data();
    float* c = out.data();
    const std::int64_t batches = numel(batch);
    auto one = [&](std::int64_t bi, bool parallel) {
        cpu::gemmStrided(M, N, K, a + offA[std::size_t(bi)], rsA, csA, b + offB[std::size_t(bi)], rsB, csB, c + bi * M * N, N, parallel);
    };
    if (batches > 1 && M * N * K < (1 << 18)) {
        // many small products (attention heads): one per task
        detail::parallelFor(batches, M * N * K, [&](std::int64_t b0, std::int64_t b1) {
            for (std::int64_t bi = b0; bi < b1; ++bi) one(bi, false);
        });
    } else {
        for (std::int64_t bi = 0; bi < batches; ++bi) one(bi, true);
    }
}

void gemm(KernelCall& call) {
    const Node& n = call.node;
    const Attributes& at = n.attrs;
    const float alpha = float(at.getFloat(n.op, "alpha"));
    const float beta = float(at.getFloat(n.op, "beta"));
    Tensor A = call.inputs[0], B = call.inputs[1];
    if (A.rank() != 2 || B.rank() != 2)
        fail(n, "A and B must be 2-D, got " + shapeToString(A.shape()) + " and " + shapeToString(B.shape()));
    if (at.getInt(n.op, "transA") != 0) A = A.transpose(0, 1);
    if (at.getInt(n.op, "transB") != 0) B = B.transpose(0, 1);
    const std::int64_t M = A.dim(0), K = A.dim(1), N = B.dim(1);
    if (B.dim(0) != K)
        fail(n, "inner dimensions differ: op(A) " + shapeToString(A.shape()) + ", op(B) " + shapeToString(B.shape()));
    const Shape outShape{M, N};
    if (call.outTypes[0].shape != outShape)
        fail(n, "output shape " + shapeToString(call.outTypes[0].shape) + " does not match " + shapeToString(outShape));
    Tensor Ce;
    if (detail::hasInput(call, 2) && beta != 0.f) {
        try {
            Ce = call.inputs[2].expand(outShape);
        } catch (const std::invalid_argument&) {
            fail(n, "C of shape " + shapeToString(call.inputs[2].shape()) + " does not broadcast to " + shapeToString(outShape));
        }
    }
    Tensor& out = newOutput(call, 0, outShape);
    if (out.numel() == 0) return;
    float* c = out.data();
    if (K == 0) {
        std::fill_n(c, out.numel(), 0.f);
    } else {
        cpu::gemmStrided(M, N, K, A.data(), A.strides()[0], A.strides()[1], B.data(), B.strides()[0], B.strides()[1], c, N);
    }
    if (alpha != 1.f || Ce.defined()) {
        const float* cp = Ce.defined() ? Ce.data() : nullptr;
        const std::int64_t cs0 = Ce.defined() ? Ce.strides()[0] : 0, cs1 = Ce.defined() ? Ce.strides()[1] : 0;
        detail::parallelFor(M, N, [&](std::int64_t i0, std::int64_t i1) {
            for (std::int64_t i = i0; i < i1; ++i) {
                float* row = c + i * N;
                if (cp) {
                    for (std::int64_t j = 0; j < N; ++j) row[j] = alpha * row[j] + beta * cp[i * cs0 + j * cs1];
                } else {
                    for (std::int64_t j = 0; j < N; ++j) row[j] *= alpha;
                }
            }
        });
    }
}

}  // namespace

void matmulKernel(KernelCall& call) {
    switch (call.node.op) {
    case Op::MatMul:
        return matmul(call);
    case Op::Gemm:
        return gemm(call);
#define ADJ_FAMILY_CASE_MatMul(id)
#include "ir/op_family_cases.inc"
        break;
    }
    throw std::logic_error(detail::nodePrefix(call.node) + "not a matmul op");
}

}  // namespace adj::cpu
