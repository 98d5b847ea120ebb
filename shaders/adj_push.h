// The push constants of the Adjoint compute shaders, one struct per shader family, each defined
// once here for C++ and GLSL. C++ includes this header inside namespace adj::vk and sees every
// struct (runtime/vulkan/vulkan_push.h static_asserts their sizes). GLSL can have only one
// push_constant block per shader, so a shader defines exactly one selector before it includes
// adj_common.glsl (which includes this header), and gets that family's block as `pc`:
//   ADJ_PUSH_ELEMENTWISE  PushElementwise  elementwise.comp, the generated fusion kernels
//   ADJ_PUSH_COPY         PushCopy         copy.comp
//   ADJ_PUSH_FILL         PushFill         copy.comp with FILL
//   ADJ_PUSH_REDUCE       PushReduce       reduce.comp (sum, mean, max, softmax, log_softmax)
//   ADJ_PUSH_GEMM         PushGemm         gemm.comp
//   ADJ_PUSH_CONV         PushConv         conv.comp (conv2d and its two derivative ops)
//   ADJ_PUSH_POOL         PushPool         pool.comp (pooling and its derivative ops)
//   ADJ_PUSH_NORM         PushNorm         norm.comp (layernorm, batchnorm's statistics)
// Every struct starts with the same two words, which adj_common.glsl's indexing helpers and the
// shaders' loops read:
//   n     work items of the dispatch (output elements, rows, channels or batched matrices)
//   rank  dimensions of the iteration shape in meta
// Fields are 32-bit scalars only (uint, float), so the C++ struct and the GLSL block (std430
// for push constants) have the same offsets; a yes/no field is a uint, 0 or 1.
//
// Tensor layouts travel beside the push constants in a small "meta" storage buffer (binding 0):
//   meta[0 .. 7]                      the iteration shape (pc.rank dimensions)
//   meta[8 + k*9]                     operand k's offset (elements, within its binding)
//   meta[8 + k*9 + 1 .. 8 + k*9 + 8]  operand k's strides over the iteration shape
// Operand 0 is the output, operands 1.. are the inputs in binding order (binding 1 + k).
#ifndef ADJ_PUSH_H
#define ADJ_PUSH_H

#ifdef __cplusplus
#define ADJ_PUSH_BEGIN(Name) struct Name { static constexpr const char* kName = #Name;
#define ADJ_PUSH_END(Name) };
#else
#define ADJ_PUSH_BEGIN(Name) layout(push_constant) uniform Name {
#define ADJ_PUSH_END(Name) } pc;
#if (defined(ADJ_PUSH_ELEMENTWISE) + defined(ADJ_PUSH_COPY) + defined(ADJ_PUSH_FILL) + defined(ADJ_PUSH_REDUCE) + \
     defined(ADJ_PUSH_GEMM) + defined(ADJ_PUSH_CONV) + defined(ADJ_PUSH_POOL) + defined(ADJ_PUSH_NORM)) != 1
#error "a shader defines exactly one ADJ_PUSH_<FAMILY> before including adj_common.glsl (see adj_push.h)"
#endif
#endif

// out[i] = op(in...) for one op of the table (the specialization constant of elementwise.comp):
// alpha, beta and gamma are the op's parameters as engine/ir/ops.def names them (0 where the op
// has fewer). The generated fusion kernels use this block too, with their parameters inlined.
#if defined(__cplusplus) || defined(ADJ_PUSH_ELEMENTWISE)
ADJ_PUSH_BEGIN(PushElementwise)
    uint n;       // output elements
    uint rank;
    float alpha;
    float beta;
    float gamma;
ADJ_PUSH_END(PushElementwise)
#endif

// out = in over the iteration shape, both strided.
#if defined(__cplusplus) || defined(ADJ_PUSH_COPY)
ADJ_PUSH_BEGIN(PushCopy)
    uint n;       // output elements
    uint rank;
ADJ_PUSH_END(PushCopy)
#endif

// out = value over the iteration shape.
#if defined(__cplusplus) || defined(ADJ_PUSH_FILL)
ADJ_PUSH_BEGIN(PushFill)
    uint n;       // output elements
    uint rank;
    float value;
ADJ_PUSH_END(PushFill)
#endif

// Rows of a reduction: the iteration shape is [kept dims..., reduced dims...]; one workgroup per
// row (output element) reduces rowLength elements. softmax keeps every dimension but its axis.
#if defined(__cplusplus) || defined(ADJ_PUSH_REDUCE)
ADJ_PUSH_BEGIN(PushReduce)
    uint n;          // rows
    uint rank;
    uint keptDims;   // leading dimensions of the iteration shape that index the row
    uint rowLength;  // elements reduced per row (the product of the other dimensions)
    float scale;     // sum's factor: 1 for sum, 1/rowLength for mean (max and softmax ignore it)
ADJ_PUSH_END(PushReduce)
#endif

// out[b] = alpha * A[b] @ B[b] (+ beta * C): A [rows, inner], B [inner, cols], C broadcast to
// [rows, cols]; the batch dimensions are the iteration shape.
#if defined(__cplusplus) || defined(ADJ_PUSH_GEMM)
ADJ_PUSH_BEGIN(PushGemm)
    uint n;       // batched matrices
    uint rank;    // batch dimensions
    uint rows;    // M
    uint cols;    // N
    uint inner;   // K
    uint hasC;    // operand 3 (C) is read
    float alpha;
    float beta;
ADJ_PUSH_END(PushGemm)
#endif

// 2-D convolution, NCHW, with ONNX's attributes. The sizes are the forward convolution's for all
// three variants: input [batch, inChannels, inH, inW], weight [outChannels, inChannels / groups,
// kernelH, kernelW], output [batch, outChannels, outH, outW].
#if defined(__cplusplus) || defined(ADJ_PUSH_CONV)
ADJ_PUSH_BEGIN(PushConv)
    uint n;       // elements of the variant's output
    uint rank;    // 4
    uint batch;
    uint inChannels;
    uint inH;
    uint inW;
    uint outChannels;
    uint kernelH;
    uint kernelW;
    uint outH;
    uint outW;
    uint strideH;
    uint strideW;
    uint padTop;
    uint padLeft;
    uint dilationH;
    uint dilationW;
    uint groups;
    uint hasBias;  // conv2d: operand 3 (bias) is added
ADJ_PUSH_END(PushConv)
#endif

// 2-D max and average pooling, NCHW, with ONNX's attributes: input [N, C, inH, inW], output
// [N, C, outH, outW] (the forward pooling's sizes for every variant).
#if defined(__cplusplus) || defined(ADJ_PUSH_POOL)
ADJ_PUSH_BEGIN(PushPool)
    uint n;       // elements of the variant's output
    uint rank;    // 4
    uint inH;
    uint inW;
    uint outH;
    uint outW;
    uint kernelH;
    uint kernelW;
    uint strideH;
    uint strideW;
    uint padTop;
    uint padLeft;
    uint padBottom;
    uint padRight;
    uint countIncludePad;  // average pooling: the pads count in each window's divisor
ADJ_PUSH_END(PushPool)
#endif

// Normalization, one workgroup per row: the first keptDims dimensions of the iteration shape index
// the rows, the rest (rowLength elements) are normalized.
#if defined(__cplusplus) || defined(ADJ_PUSH_NORM)
ADJ_PUSH_BEGIN(PushNorm)
    uint n;           // rows (layernorm) or channels (batchnorm)
    uint rank;
    uint keptDims;
    uint rowLength;
    uint hasScale;    // layernorm: operand 2 (scale) multiplies
    uint hasBias;     // layernorm: operand 3 (bias) adds
    uint training;    // batchnorm: the batch's statistics, else the running mean and var
    float epsilon;
ADJ_PUSH_END(PushNorm)
#endif

#define ADJ_META_RANK 8
#define ADJ_META_OPERAND_WORDS 9
#define ADJ_META_OPERAND(k) (8 + (k) * 9)

#endif
