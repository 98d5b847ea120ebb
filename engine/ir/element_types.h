#pragma once
// Which element types each op takes and gives (the one place that says it; shape inference, the
// kernels' checks and the importer ask here). Float32 is what every op computes with. Beyond it:
//   - data movement (reshape, transpose, slice, concat, pad, gather's data...) carries any type;
//   - integer arithmetic: neg, abs, sign, add, sub, mul, div (truncating), maximum and minimum
//     on i64 or i32 (all inputs the same type), computed in that type;
//   - comparisons (greater, equal) take two inputs of one type and give a float 0/1 mask, the
//     form every mask of a graph has (derivative rules multiply by them); where takes such a mask
//     or a bool condition and two values of one type;
//   - cast converts between f32, i64, i32 and bool (the only op that makes bool values);
//   - the indices of the gather family are i64; argmax and argmin give i64.
// Every other input of every op is f32.
#include <string>
#include <vector>

#include "ir/graph.h"

namespace adj {

/// The element types of `node`'s outputs, given its inputs' (one per output). Throws
/// std::invalid_argument naming the input and what the op takes.
std::vector<DType> outputElementTypes(const Node& node, const std::vector<DType>& inputs);

/// Whether `op` computes on i64 and i32 values (neg, abs, sign, add, sub, mul, div, maximum,
/// minimum), as on f32.
bool computesOnIntegers(Op op);

/// Whether input `i` of `op` holds i64 indices (the gather family's input 1).
bool takesIndices(Op op, std::size_t i);

/// The element type a cast node converts to (its "to" attribute: f32, i64, i32 or bool).
/// Throws std::invalid_argument for another name.
DType castTarget(const Node& node);

}  // namespace adj
