#pragma once
// Formulas: the small language of ops.def's derivative, kinks and decomposition columns, in
// which an elementwise op's derivative or expansion is written with other ops of the table:
//
//   t = tanh(softplus(a)); da = mul(g, add(t, mul(mul(a, sub(1, mul(t, t))), sigmoid(a))))
//
// Statements `name = expression` are separated by ';'. An expression is a number, a name, or a
// call `op(args)` / `op[attr=number, ...](args)` of any op of the table. Names are bound by the
// caller (a, b, c for the inputs, out, g), by earlier statements, or are the attributes of the
// node the formula is built for (a number: its value, the schema's default when unset).
// Building a formula adds ordinary nodes through a GraphBuilder, so a derivative written here is
// a backward graph like any other.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ir/builder.h"

namespace adj {

struct FormulaExpr {
    enum class Kind { Number, Name, Call } kind = Kind::Number;
    double number = 0;
    std::string name;  // Name: the name; Call: the op's name
    Op op = Op::Add;
    Attributes attrs;  // Call: attributes given in brackets
    std::vector<FormulaExpr> args;
};

struct FormulaStatement {
    std::string target;
    FormulaExpr expr;
};

struct Formula {
    std::vector<FormulaStatement> statements;
    bool empty() const { return statements.empty(); }
    /// The statement that defines `target`, or null.
    const FormulaStatement* find(const std::string& target) const;
};

/// Parses `text`. A text that is one expression without a target defines `defaultTarget`.
/// Throws GraphError naming the formula and what is wrong.
Formula parseFormula(std::string_view text, const std::string& defaultTarget);

/// The columns of ops.def written as formulas.
enum class FormulaColumn { Derivative, Kinks, Decomposition };

/// An op's formula of `column`, parsed once (every op's at the first call; thread-safe). Empty
/// when the table has none. A derivative's lone expression defines da, a decomposition's y, a
/// kink's k.
const Formula& opFormula(Op op, FormulaColumn column);

/// Builds the statements of `f` with `b`, in order. `values` binds names (a, b, c, out, g, ...);
/// other names are earlier targets or the float attributes of `node` (which may be null). Returns
/// the value of every target built. With `wanted`, only the statements those targets depend on
/// are built. Throws GraphError on an unknown name or op, or a shape mismatch.
std::map<std::string, ValueRef> buildFormula(GraphBuilder& b, const Formula& f, const std::map<std::string, ValueRef>& values,
                                             const Node* node, const std::vector<std::string>& wanted = {});

/// The names `a`, `b`, `c` of input k of an elementwise op.
const char* formulaInputName(std::size_t k);

}  // namespace adj
