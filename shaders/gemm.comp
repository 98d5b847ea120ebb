#version 450
// Batched GEMM: out = alpha * A @ B (+ beta * C), every operand strided. A tiled kernel: each
// workgroup computes a 64x64 tile of the output, staging 64x16 slices of A and 16x64 slices of B in
// shared memory; each of its 256 threads keeps a 4x4 block of results in registers.
// Layout: pc.rank batch dimensions in meta; operand k's strides over them, then its row stride and
// column stride (meta slots rank+1 and rank+2). Operands: 0 out [M,N], 1 A [M,K], 2 B [K,N],
// 3 C (pc.hasC) broadcast to [M,N]. Push constants: PushGemm (pc.rows = M, pc.cols = N,
// pc.inner = K).
#define ADJ_PUSH_GEMM
#include "adj_common.glsl"

#define BM 64
#define BN 64
#define BK 16
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 1) writeonly buffer Out { float out_[]; };
layout(std430, binding = 2) readonly buffer InA { float a_[]; };
layout(std430, binding = 3) readonly buffer InB { float b_[]; };
layout(std430, binding = 4) readonly buffer InC { float c_[]; };

shared float As[BK][BM];
shared float Bs[BK][BN + 1];

uint rowStride(uint k) { return meta[ADJ_META_OPERAND(k) + pc.rank + 1u]; }
uint colStride(uint k) { return meta[ADJ_META_OPERAND(k) + pc.rank + 2u]; }
uint batchBase(uint k, uint b) { return meta[ADJ_META_OPERAND(k)] + adj_offset_range(k, b, 0u, pc.rank); }

void main() {
    const uint M = pc.rows, N = pc.cols, K = pc.inner;
    const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    const uint tid = ty * 16u + tx;
    const uint row0 = gl_WorkGroupID.y * BM, col0 = gl_WorkGroupID.x * BN;
    const uint b = gl_WorkGroupID.z;
    const uint aBase = batchBase(1u, b), bBase = batchBase(2u, b);
    const uint ars = rowStride(1u), acs = colStride(1u), brs = rowStride(2u), bcs = colStride(2u);

    float acc[4][4];
    for (uint i = 0u; i < 4u; ++i)
        for (uint j = 0u; j < 4u; ++j) acc[i][j] = 0.0;

    for (uint k0 = 0u; k0 < K; k0 += BK) {
        for (uint r = 0u; r < 4u; ++r) {
            uint idx = tid + 256u * r;
            uint ar = idx / BK, ak = idx % BK;  // A tile: 64 rows x 16
            uint gr = row0 + ar, gk = k0 + ak;
            As[ak][ar] = (gr < M && gk < K) ? a_[aBase + gr * ars + gk * acs] : 0.0;
            uint bk = idx / BN, bc = idx % BN;  // B tile: 16 x 64 columns
            uint gk2 = k0 + bk, gc = col0 + bc;
            Bs[bk][bc] = (gk2 < K && gc < N) ? b_[bBase + gk2 * brs + gc * bcs] : 0.0;
        }
        barrier();
        for (uint kk = 0u; kk < BK; ++kk) {
            float av[4], bv[4];
            for (uint i = 0u; i < 4u; ++i) av[i] = As[kk][ty + 16u * i];
            for (uint j = 0u; j < 4u; ++j) bv[j] = Bs[kk][tx + 16u * j];
            for (uint i = 0u; i < 4u; ++i)
                for (uint j = 0u; j < 4u; ++j) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
        barrier();
    }

    const uint oBase = batchBase(0u, b), ors = rowStride(0u), ocs = colStride(0u);
    const bool hasC = pc.hasC != 0u;
    uint cBase = 0u, crs = 0u, ccs = 0u;
    if (hasC) { cBase = batchBase(3u, b); crs = rowStride(3u); ccs = colStride(3u); }
    for (uint i = 0u; i < 4u; ++i) {
        uint r = row0 + ty + 16u * i;
        if (r >= M) continue;
        for (uint j = 0u; j < 4u; ++j) {
            uint c = col0 + tx + 16u * j;
            if (c >= N) continue;
            float v = pc.alpha * acc[i][j];
            if (hasC) v += pc.beta * c_[cBase + r * crs + c * ccs];
            out_[oBase + r * ors + c * ocs] = v;
        }
    }
}
