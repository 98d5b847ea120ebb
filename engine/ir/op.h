#pragma once
// Op identities and their static traits, generated from ops.def.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace adj {

enum class Op : std::uint16_t {
#define OP(id, name, minIn, maxIn, groups, attrs) id,
#include "ir/ops.def"
#undef OP
};

inline constexpr int kOpCount = 0
#define OP(id, name, minIn, maxIn, groups, attrs) +1
#include "ir/ops.def"
#undef OP
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
};

enum class AttrType : std::uint8_t { Int, Float, Ints, Floats, String };

/// One attribute an op accepts, parsed from the schema string in ops.def.
struct AttrSpec {
    std::string name;
    AttrType type;
    bool required = false;
    std::string defaultText;  // JSON-like text of the default, empty when none
};

struct OpInfo {
    Op op;
    std::string_view name;
    int minInputs;
    int maxInputs;  // -1: any number
    std::uint32_t groups;
    std::vector<AttrSpec> attrs;
};

const OpInfo& opInfo(Op op);
std::string_view opName(Op op);
std::optional<Op> opFromName(std::string_view name);
const std::vector<OpInfo>& allOps();
std::string_view attrTypeName(AttrType t);

inline bool hasGroup(Op op, std::uint32_t g) { return (opInfo(op).groups & g) != 0; }
inline bool isElementwise(Op op) { return hasGroup(op, EW); }
inline bool isUnary(Op op) { return hasGroup(op, UN); }
inline bool isBinary(Op op) { return hasGroup(op, BIN); }
inline bool isCommutative(Op op) { return hasGroup(op, COMM); }
inline bool isReduction(Op op) { return hasGroup(op, RED); }
inline bool isMovement(Op op) { return hasGroup(op, MOVE); }
inline bool isSource(Op op) { return hasGroup(op, SRC); }

}  // namespace adj
