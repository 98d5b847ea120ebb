#pragma once
// The scalar expression of an elementwise op (ops.def, OpInfo::scalarExpr: the common subset of
// C++ and GLSL over the inputs a, b, c, the attributes alpha, beta, gamma, float literals and the
// f_* functions of runtime/scalar_math.h) rewritten as Python over torch tensors, so that the
// PyTorch export of an elementwise op is the op table's own formula and a new op needs nothing
// here. The conditional `c ? x : y` becomes torch.where; f_* calls stay calls, and the exporter
// defines each f_* it uses once in the written file (pytorchScalarFunction).
#include <set>
#include <string>
#include <string_view>

namespace adj {

struct PythonExpression {
    std::string text;
    /// The f_* functions it calls, for pytorchScalarFunction.
    std::set<std::string> functions;
};

/// Throws Error naming the expression and what it could not read.
PythonExpression pythonFromScalarExpr(std::string_view expr);

/// A Python float literal for a float32 value: the shortest text that reads back as the same float
/// (0.1f -> "0.1", 2 -> "2.0"); float('nan') and float('inf') otherwise.
std::string pythonFloatLiteral(double v);

/// A Python string literal holding `s` (quotes, backslashes and control characters escaped).
std::string pythonStringLiteral(const std::string& s);

/// The Python definition (one line) of f_NAME over tensors and Python floats; throws Error for a
/// name runtime/scalar_math.h does not have.
std::string pytorchScalarFunction(const std::string& name);

}  // namespace adj
