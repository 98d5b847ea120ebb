// Workgroup reductions shared by reduce.comp and norm.comp: every invocation of the workgroup
// calls them with its partial value (in uniform control flow) and gets the workgroup's total.
// The includer defines WG (the workgroup size, a power of two) and, where the device has
// subgroup arithmetic, SUBGROUP (the sum then adds per subgroup first).
#ifndef ADJ_REDUCE_GLSL
#define ADJ_REDUCE_GLSL

#include "adj_math.glsl"

#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

shared float partial[WG];

float combineMax(float a, float b) { return f_max(a, b); }

float reduceMax(float v) {
    partial[gl_LocalInvocationID.x] = v;
    barrier();
    for (uint s = WG / 2; s > 0u; s >>= 1) {
        if (gl_LocalInvocationID.x < s)
            partial[gl_LocalInvocationID.x] = combineMax(partial[gl_LocalInvocationID.x], partial[gl_LocalInvocationID.x + s]);
        barrier();
    }
    float r = partial[0];
    barrier();
    return r;
}

float reduceSum(float v) {
#ifdef SUBGROUP
    v = subgroupAdd(v);
    if (subgroupElect()) partial[gl_SubgroupID] = v;
    barrier();
    float r = 0.0;
    for (uint s = 0u; s < gl_NumSubgroups; ++s) r += partial[s];
    barrier();
    return r;
#else
    partial[gl_LocalInvocationID.x] = v;
    barrier();
    for (uint s = WG / 2; s > 0u; s >>= 1) {
        if (gl_LocalInvocationID.x < s) partial[gl_LocalInvocationID.x] += partial[gl_LocalInvocationID.x + s];
        barrier();
    }
    float r = partial[0];
    barrier();
    return r;
#endif
}

#endif
