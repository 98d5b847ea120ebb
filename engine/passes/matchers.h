#pragma once
// The matching vocabulary of the rewrite rules: the questions a rule asks about its root and the
// values around it (which node produces a value, whether it is a constant equal to some number,
// how many uses it has, what its attributes and shapes say) and the answers it gives the
// Rewriter. With these a rule reads as its pattern followed by its replacement:
//
//     const Node* inner = inputProducer(g, n, 0, Op::Neg);     // neg(neg x)
//     if (!inner) return kNoMatch;
//     return replaceIfSameType(g, root, inner->inputs[0]);     // -> x
//
// Every function here only reads the graph.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "passes/rewriter.h"

namespace adj::match {

// ---- what a rule returns ----

/// A rule's answer when its pattern does not match.
inline constexpr std::nullopt_t kNoMatch = std::nullopt;
/// The root (of one output) is replaced by `value`.
inline RewriteResult replaceBy(ValueRef value) { return std::vector<ValueRef>{value}; }
/// The root's outputs are replaced by `values`, one each (none: only alsoReplace pairs apply).
inline RewriteResult replaceBy(std::vector<ValueRef> values) { return values; }
/// The root is replaced by `keep` when `keep` has the root's output type (shape and dtype), so
/// a rewrite never changes what its users see; no match otherwise.
RewriteResult replaceIfSameType(const Graph& g, NodeId root, ValueRef keep);

// ---- producers ----

/// The node that produces `v`, or null when it is not in the graph.
const Node* producerOf(const Graph& g, ValueRef v);
/// The node that produces `v` when it is a node of `op`, else null.
const Node* producerOf(const Graph& g, ValueRef v, Op op);
/// The producer of input `k` of `n` when `n` has that input and its producer is a node of `op`.
const Node* inputProducer(const Graph& g, const Node& n, std::size_t k, Op op);

// ---- sources and constants ----

/// Constants are compared element by element up to this many values; larger ones never match.
inline constexpr std::int64_t kMatchMaxConstantElements = 4096;

bool isConstant(const Graph& g, ValueRef v);
bool isParameter(const Graph& g, ValueRef v);
/// A graph input, parameter or constant.
bool isSourceValue(const Graph& g, ValueRef v);
/// True when every input of `n` is a constant node.
bool allInputsConstant(const Graph& g, const Node& n);
/// True when `v` is a constant (of at most kMatchMaxConstantElements values) every element of
/// which equals `x`: a scalar 1, or a tensor of ones, both count as "one".
bool isConstantFilledWith(const Graph& g, ValueRef v, float x);
/// The value of a constant or parameter (contiguous), or an undefined tensor for anything else.
Tensor knownValue(const Graph& g, ValueRef v);
/// True when no element of `v` can be negative: the output of an op whose range lies in [0, inf)
/// (exp, sigmoid, softplus, relu, abs, sqrt, hard_sigmoid; NaN in gives NaN out), or a constant of
/// at most kMatchMaxConstantElements values none of which is negative. A parameter never counts:
/// training changes it.
bool isKnownNonNegative(const Graph& g, ValueRef v);

// ---- uses ----

/// True when the node's outputs have exactly one use (a node input or a graph output).
bool hasSingleUse(const Rewriter& rw, NodeId id);
/// The node that reads the node's outputs when that is their only use (so they are no graph
/// output either), else null.
const Node* soleUser(const Rewriter& rw, NodeId id);

// ---- attributes (absent ones read as the schema's default) ----

std::int64_t intAttr(const Node& n, const std::string& name);
double floatAttr(const Node& n, const std::string& name);
std::string stringAttr(const Node& n, const std::string& name);
/// A transpose's permutation: its "perm", or the reversed axes when it has none.
std::vector<std::int64_t> transposePerm(const Graph& g, const Node& transpose);
bool isIdentityPerm(const std::vector<std::int64_t>& perm);

// ---- shapes ----

inline const Shape& shapeOf(const Graph& g, ValueRef v) { return g.type(v).shape; }
inline std::size_t rankOf(const Graph& g, ValueRef v) { return shapeOf(g, v).size(); }
/// The shape of output 0 of a node.
inline const Shape& outputShape(const Graph& g, NodeId id) { return shapeOf(g, {id, 0}); }
inline bool sameType(const Graph& g, ValueRef a, ValueRef b) { return g.type(a) == g.type(b); }

}  // namespace adj::match
