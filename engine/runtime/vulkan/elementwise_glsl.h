#pragma once
// The GLSL twins of runtime/elementwise_functions.h, generated from the same ops.def text: one
// function ew_<Id>(a, b, c, alpha, beta, gamma) per elementwise op, whose body is the op's scalar
// expression, and ew_apply(op, ...), a switch over the op's index (Op's value), which the
// elementwise shader calls with the op as a specialization constant so that each pipeline keeps
// only its own case. The build compiles this file into a small program that writes the text as
// shaders' adj_elementwise.glsl; fusion kernels generated at run time include the same text.
// Plain text generation: no Vulkan here.
#include <string>

namespace adj::vk {

/// The text of adj_elementwise.glsl (it includes adj_math.glsl, the f_* scalar functions).
std::string elementwiseGlslSource();

}  // namespace adj::vk
