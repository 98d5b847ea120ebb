#pragma once
// The program of a fusion group (op `fused`, attribute `program`): a straight-line list of
// elementwise instructions over the node's inputs, one per line or separated by ';':
//
//   r0 = mul in0 in1; r1 = tanh r0; r2 = add r1 in2; r3 = leaky_relu[alpha=0.2] r2
//
// Operands are inputs (inK, the node's K-th input) or earlier registers (rK). Register K is
// defined by instruction K; the last register is the node's output. Any elementwise op of the
// table except `fused` itself may appear, with its arity, and with its float attributes in
// brackets (every one the op has, written by text(); a missing one takes the table's default).
// Constants become extra inputs, so a
// program is text only and survives JSON save and load. Every instruction broadcasts like its op
// does; the node's output shape is the broadcast of all its inputs.
#include <string>
#include <vector>

#include "ir/attributes.h"

namespace adj {

struct FusedOperand {
    bool isInput = true;
    int index = 0;  // input number or register number
    bool operator==(const FusedOperand& o) const { return isInput == o.isInput && index == o.index; }
};

struct FusedInstr {
    Op op = Op::Add;
    std::vector<FusedOperand> args;
    EwParams params{0.f, 0.f, 0.f};  // the op's alpha, beta, gamma
};

struct FusedProgram {
    std::vector<FusedInstr> instrs;
    /// The canonical text: "r0 = mul in0 in1; r1 = tanh r0".
    std::string text() const;
};

/// Parses and checks a program for a node with `inputCount` inputs (-1: do not check input
/// numbers). Throws GraphError describing the first problem ("fused program line 2: ...").
FusedProgram parseFusedProgram(const std::string& text, int inputCount = -1);

}  // namespace adj
