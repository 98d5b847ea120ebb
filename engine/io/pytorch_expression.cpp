#include "io/pytorch_expression.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <vector>

#include "base/errors.h"

namespace adj {

namespace {

// Python precedence levels of what we write (higher binds tighter).
enum Level { kConditional = 0, kComparison = 1, kSum = 2, kProduct = 3, kUnary = 4, kAtom = 5 };

struct Written {
    std::string text;
    Level level;
};

std::string parenthesized(const Written& w, Level needed) { return w.level < needed ? "(" + w.text + ")" : w.text; }

class Translator {
public:
    explicit Translator(std::string_view expr) : s_(expr) {}

    PythonExpression run() {
        Written w = conditional();
        skipSpace();
        if (pos_ != s_.size()) fail("unexpected '" + std::string(1, s_[pos_]) + "'");
        return {w.text, std::move(functions_)};
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw Error("scalar expression '" + std::string(s_) + "' at " + std::to_string(pos_) + ": " + what);
    }
    void skipSpace() {
        while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    }
    bool take(std::string_view token) {
        skipSpace();
        if (s_.substr(pos_, token.size()) != token) return false;
        pos_ += token.size();
        return true;
    }
    void expect(std::string_view token) {
        if (!take(token)) fail("expected '" + std::string(token) + "'");
    }

    // c ? x : y  ->  torch.where(c, x, y); the branches may be Python floats, hence _t
    Written conditional() {
        Written cond = comparison();
        if (!take("?")) return cond;
        Written yes = conditional();
        expect(":");
        Written no = conditional();
        functions_.insert("_t");
        return {"torch.where(" + cond.text + ", _t(" + yes.text + "), _t(" + no.text + "))", kAtom};
    }

    Written comparison() {
        Written left = sum();
        for (std::string_view op : {"==", "!=", ">=", "<=", ">", "<"}) {
            if (take(op)) {
                Written right = sum();
                return {parenthesized(left, kSum) + " " + std::string(op) + " " + parenthesized(right, kSum), kComparison};
            }
        }
        return left;
    }

    Written sum() {
        Written left = product();
        for (;;) {
            skipSpace();
            if (pos_ >= s_.size() || (s_[pos_] != '+' && s_[pos_] != '-')) return left;
            const char op = s_[pos_++];
            Written right = product();
            // a - (b + c) keeps its parentheses: the right operand must bind tighter than a sum
            left = {parenthesized(left, kSum) + " " + op + " " + parenthesized(right, kProduct), kSum};
        }
    }

    Written product() {
        Written left = unary();
        for (;;) {
            skipSpace();
            if (pos_ >= s_.size() || (s_[pos_] != '*' && s_[pos_] != '/')) return left;
            const char op = s_[pos_++];
            Written right = unary();
            left = {parenthesized(left, kProduct) + " " + op + " " + parenthesized(right, kUnary), kProduct};
        }
    }

    Written unary() {
        if (take("-")) return {"-" + parenthesized(unary(), kUnary), kUnary};
        return atom();
    }

    Written atom() {
        skipSpace();
        if (pos_ >= s_.size()) fail("unexpected end");
        const char c = s_[pos_];
        if (c == '(') {
            ++pos_;
            Written inner = conditional();
            expect(")");
            return inner;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return number();
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            std::string name;
            while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) name += s_[pos_++];
            if (!take("(")) {
                static const std::set<std::string> kNames{"a", "b", "c", "alpha", "beta", "gamma"};
                if (!kNames.count(name)) fail("unknown name '" + name + "'");
                return {name, kAtom};
            }
            if (name.rfind("f_", 0) != 0) fail("unknown function '" + name + "'");
            functions_.insert(name);
            std::string args;
            if (!take(")")) {
                for (;;) {
                    args += (args.empty() ? "" : ", ") + conditional().text;
                    if (take(")")) break;
                    expect(",");
                }
            }
            return {name + "(" + args + ")", kAtom};
        }
        fail("unexpected '" + std::string(1, c) + "'");
    }

    // 0.5f, 1.f, 3.f, 1e-5f -> 0.5, 1.0, 3.0, 1e-5
    Written number() {
        std::string digits;
        while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.' || s_[pos_] == 'e' ||
                                    s_[pos_] == 'E' ||
                                    ((s_[pos_] == '-' || s_[pos_] == '+') && !digits.empty() && (digits.back() == 'e' || digits.back() == 'E'))))
            digits += s_[pos_++];
        if (pos_ < s_.size() && (s_[pos_] == 'f' || s_[pos_] == 'F')) ++pos_;
        if (digits.empty() || digits == ".") fail("malformed number");
        if (digits.back() == '.') digits += '0';
        if (digits.front() == '.') digits = "0" + digits;
        if (digits.find_first_of(".eE") == std::string::npos) digits += ".0";
        return {digits, kAtom};
    }

    std::string_view s_;
    std::size_t pos_ = 0;
    std::set<std::string> functions_;
};

}  // namespace

PythonExpression pythonFromScalarExpr(std::string_view expr) { return Translator(expr).run(); }

std::string pythonFloatLiteral(double v) {
    if (std::isnan(v)) return "float('nan')";
    if (std::isinf(v)) return v > 0 ? "float('inf')" : "-float('inf')";
    const float f = float(v);
    char buf[40];
    for (int digits = 1; digits <= 9; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, double(f));
        if (std::strtof(buf, nullptr) == f) break;
    }
    std::string s = buf;
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
}

std::string pythonStringLiteral(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += char(c);
        }
    }
    return out + "\"";
}

std::string pytorchScalarFunction(const std::string& name) {
    // the f_* of runtime/scalar_math.h; arguments may be tensors or Python floats
    static const std::map<std::string, std::string> kBodies{
        {"_t", "def _t(x): return x if isinstance(x, torch.Tensor) else torch.tensor(x, dtype=torch.float32)"},
        {"f_abs", "def f_abs(x): return torch.abs(_t(x))"},
        {"f_exp", "def f_exp(x): return torch.exp(_t(x))"},
        {"f_log", "def f_log(x): return torch.log(_t(x))"},
        {"f_sqrt", "def f_sqrt(x): return torch.sqrt(_t(x))"},
        {"f_sin", "def f_sin(x): return torch.sin(_t(x))"},
        {"f_cos", "def f_cos(x): return torch.cos(_t(x))"},
        {"f_asin", "def f_asin(x): return torch.asin(_t(x))"},
        {"f_acos", "def f_acos(x): return torch.acos(_t(x))"},
        {"f_atan", "def f_atan(x): return torch.atan(_t(x))"},
        {"f_tanh", "def f_tanh(x): return torch.tanh(_t(x))"},
        {"f_sigmoid", "def f_sigmoid(x): return torch.sigmoid(_t(x))"},
        {"f_erf", "def f_erf(x): return torch.erf(_t(x))"},
        {"f_expm1", "def f_expm1(x): return torch.expm1(_t(x))"},
        {"f_log1p", "def f_log1p(x): return torch.log1p(_t(x))"},
        {"f_floor", "def f_floor(x): return torch.floor(_t(x))"},
        {"f_ceil", "def f_ceil(x): return torch.ceil(_t(x))"},
        {"f_round", "def f_round(x): return torch.round(_t(x))  # halves to even, as nearbyint"},
        {"f_pow", "def f_pow(x, y): return torch.pow(_t(x), _t(y))"},
        {"f_max", "def f_max(x, y): return torch.maximum(_t(x), _t(y))  # NaN if either is NaN"},
        {"f_min", "def f_min(x, y): return torch.minimum(_t(x), _t(y))  # NaN if either is NaN"},
        {"f_clamp", "def f_clamp(x, lo, hi): return torch.clamp(_t(x), lo, hi)"},
    };
    auto it = kBodies.find(name);
    if (it == kBodies.end()) throw Error("no PyTorch form for the scalar function '" + name + "'");
    return it->second;
}

}  // namespace adj
