#pragma once
// Op identities and their static traits, generated from ops.def.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace adj {

enum class Op : std::uint16_t {
#define OP(id, ...) id,
#define EW(id, ...) id,
#include "ir/ops.def"
#undef OP
#undef EW
};

inline constexpr int kOpCount = 0
#define OP(id, ...) +1
#define EW(id, ...) +1
#include "ir/ops.def"
#undef OP
#undef EW
    ;

/// Op groups (bit flags), as listed in ops.def.
enum OpGroup : std::uint32_t {
    SRC = 1u << 0,
    EW = 1u << 1,
    UN = 1u << 2,
    BIN = 1u << 3,
    COMM = 1u << 4,
    RED = 1u << 5,
    MOVE = 1u << 6,
    NN = 1u << 7,
    LIN = 1u << 8,
    NORM = 1u << 9,
    MULTI = 1u << 10,
    GRAD = 1u << 11,
    DECOMP = 1u << 12,
};

/// The kernel family of an op: what each backend dispatches on (a switch over the families, then
/// one over the family's ops; see ir/op_family_cases.inc).
enum class OpFamily : std::uint8_t {
    Source,       // inputs, parameters, constants: bound, not computed
    Elementwise,  // the EW entries: one scalar expression per element
    Fused,        // a fusion group's program
    MatMul,       // matmul, gemm
    Reduce,       // sum, mean, max, softmax, log_softmax
    View,         // returns a view of input 0 (no copy, no buffer of its own)
    Copy,         // writes a new tensor from its inputs' elements (concat, pad)
    Index,        // i64 values: gather and its adjoint read indices, to_float reads ids, argmax/argmin write them
    Conv,         // convolution
    Pool,         // pooling
    Norm,         // batchnorm, layernorm
    Grad,         // derivative ops of convolutions and pools
};

/// How the cost model counts an op's FLOPs (bytes are always its inputs read and outputs written).
enum class CostKind : std::uint8_t {
    None,       // no work: sources and views
    Copy,       // moves bytes, no arithmetic
    PerOutput,  // flopsPerElement per output element
    PerInput,   // flopsPerElement per input element (reductions)
    Fused,      // the sum of its program's instructions' flopsPerElement, per output element
    MatMul,     // 2 M N K
    Gemm,       // 2 M N K, plus the bias
    Conv,       // 2 (forward output) (Cin / group) kh kw, forward or derivative
    Pool,       // output elements times the window
    PoolGrad,   // pooled elements times the window
};

enum class AttrType : std::uint8_t { Int, Float, Ints, Floats, String };

/// A bound on a numeric attribute (or on each element of a list attribute): value > bound, >=, <, <=.
struct AttrConstraint {
    enum class Kind : std::uint8_t { Greater, GreaterEqual, Less, LessEqual } kind;
    double bound;
    bool holds(double v) const;
    std::string text() const;  // ">0"
};

/// One attribute an op accepts, parsed from the schema string in ops.def.
struct AttrSpec {
    std::string name;
    AttrType type;
    bool required = false;
    std::string defaultText;  // JSON-like text of the default, empty when none
    std::vector<AttrConstraint> constraints;
};

/// Everything ops.def says about one op.
struct OpInfo {
    Op op;
    std::string_view name;
    int minInputs;
    int maxInputs;  // -1: any number
    std::uint32_t groups;
    std::vector<AttrSpec> attrs;
    OpFamily family;
    CostKind cost;
    double flopsPerElement;   // the factor of CostKind PerOutput / PerInput (FLOPs per element)
    std::string_view onnx;    // the ONNX (default domain) op it is written as and read from; empty: none
    std::string_view doc;     // one line, for tooltips and `adjoint-cli ops`
    // elementwise entries only
    std::string_view scalarExpr;     // C++/GLSL text of one element's value
    std::string_view derivative;     // formula: da, db, dc given g
    std::string_view kinks;          // formula: sign-of-regime values
    std::string_view decomposition;  // formula: y in other ops
};

const OpInfo& opInfo(Op op);
std::string_view opName(Op op);
std::optional<Op> opFromName(std::string_view name);
const std::vector<OpInfo>& allOps();
std::string_view attrTypeName(AttrType t);
std::string_view opFamilyName(OpFamily f);

inline bool hasGroup(Op op, std::uint32_t g) { return (opInfo(op).groups & g) != 0; }
inline bool isElementwise(Op op) { return hasGroup(op, EW); }
inline bool isUnary(Op op) { return hasGroup(op, UN); }
inline bool isBinary(Op op) { return hasGroup(op, BIN); }
inline bool isCommutative(Op op) { return hasGroup(op, COMM); }
inline bool isReduction(Op op) { return hasGroup(op, RED); }
inline bool isMovement(Op op) { return hasGroup(op, MOVE); }
inline bool isSource(Op op) { return hasGroup(op, SRC); }
/// An op whose CPU and Vulkan kernels return a view of input 0 (no buffer of its own).
inline bool returnsView(Op op) { return opInfo(op).family == OpFamily::View; }
/// An op that runs a kernel (not a source, not a view).
inline bool isKernelOp(Op op) { return opInfo(op).family != OpFamily::Source && opInfo(op).family != OpFamily::View; }
/// An op differentiated through its decomposition (group DECOMP).
inline bool hasDecomposition(Op op) { return hasGroup(op, DECOMP); }
/// An elementwise op with a scalar expression (every EW entry; not `fused`).
inline bool hasScalarExpr(Op op) { return !opInfo(op).scalarExpr.empty(); }

/// The float parameters of an elementwise op's scalar expression: its attributes alpha, beta and
/// gamma (0 where the op has no such attribute).
using EwParams = std::array<float, 3>;
inline constexpr std::array<const char*, 3> kEwParamNames{"alpha", "beta", "gamma"};

}  // namespace adj
