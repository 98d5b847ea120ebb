#pragma once
// Which element types each op takes and gives (the one place that says it; shape inference, the
// kernels' checks and the importer ask here). Float32 is what every op computes with and what
// gradients flow through. Beyond it (tensor/dtype.h):
//   - data movement (reshape, transpose, slice, concat, pad, gather's data...) carries any type;
//   - integer arithmetic: neg, abs, sign, add, sub, mul, div (truncating), maximum, minimum and
//     matmul on any integer type (all inputs the same type), computed in that type with wrap-around;
//   - f64: every elementwise op, matmul and the sum, mean and max reductions, computed in double;
//   - f16 and bf16: every elementwise op, each element widened to f32 and rounded back;
//   - comparisons (greater, equal) take two inputs of one type and give a float 0/1 mask, the
//     form every mask of a graph has (derivative rules multiply by them); where takes such a mask
//     or a bool condition and two values of one type;
//   - cast converts between any two types (the only op that makes bool values);
//   - the indices of the gather family are i64; argmax and argmin give i64.
// Every other input of every op is f32.
#include <string>
#include <vector>

#include "ir/graph.h"

namespace adj {

/// The element types of `node`'s outputs, given its inputs' (one per output). Throws
/// std::invalid_argument naming the input and what the op takes.
std::vector<DType> outputElementTypes(const Node& node, const std::vector<DType>& inputs);

/// Whether `op` computes on values of type `t` (all its inputs of that type) and gives that type:
/// every op on f32; the integer arithmetic ops and matmul on integers; elementwise ops, matmul and the sum,
/// mean and max reductions on f64; elementwise ops on f16 and bf16.
bool computesIn(Op op, DType t);

/// Whether `op` computes on integer values (neg, abs, sign, add, sub, mul, div, maximum, minimum).
bool computesOnIntegers(Op op);

/// Whether input `i` of `op` holds i64 indices (the gather family's input 1).
bool takesIndices(Op op, std::size_t i);

/// The element type a cast node converts to (its "to" attribute: any type's name, tensor/dtype.h).
/// Throws std::invalid_argument for another name.
DType castTarget(const Node& node);

/// The types `computesIn` accepts for `op`, for messages ("f32, f64, f16 or bf16").
std::string typesComputedIn(Op op);

}  // namespace adj
