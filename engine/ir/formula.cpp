#include "ir/formula.h"

#include <cctype>
#include <cstdlib>

#include "base/errors.h"

namespace adj {

namespace {

class Parser {
public:
    explicit Parser(std::string_view text) : s_(text) {}

    Formula parse(const std::string& defaultTarget) {
        Formula f;
        do {
            skipSpace();
            if (at(';') || done()) continue;  // empty statement
            FormulaStatement st;
            const std::size_t start = pos_;
            if (std::isalpha(peek()) || peek() == '_') {
                std::string name = identifier();
                skipSpace();
                if (at('=')) {
                    ++pos_;
                    st.target = name;
                    st.expr = expression();
                } else {
                    pos_ = start;
                    st.expr = expression();
                }
            } else {
                st.expr = expression();
            }
            f.statements.push_back(std::move(st));
            skipSpace();
        } while (!done() && take(';'));
        skipSpace();
        if (!done()) fail("expected ';' or the end");
        for (auto& st : f.statements)
            if (st.target.empty()) {
                if (f.statements.size() != 1) fail("every statement of several needs a target (name = ...)");
                st.target = defaultTarget;
            }
        return f;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw GraphError("formula '" + std::string(s_) + "' at character " + std::to_string(pos_ + 1) + ": " + what);
    }
    bool done() const { return pos_ >= s_.size(); }
    int peek() const { return done() ? 0 : static_cast<unsigned char>(s_[pos_]); }
    bool at(char c) const { return !done() && s_[pos_] == c; }
    void skipSpace() {
        while (!done() && std::isspace(peek())) ++pos_;
    }
    bool take(char c) {
        skipSpace();
        if (!at(c)) return false;
        ++pos_;
        return true;
    }
    void expect(char c) {
        if (!take(c)) fail(std::string("expected '") + c + "'");
    }
    std::string identifier() {
        skipSpace();
        const std::size_t b = pos_;
        while (!done() && (std::isalnum(peek()) || peek() == '_')) ++pos_;
        if (b == pos_) fail("expected a name");
        return std::string(s_.substr(b, pos_ - b));
    }
    double number() {
        skipSpace();
        const std::string rest(s_.substr(pos_));
        char* end = nullptr;
        const double v = std::strtod(rest.c_str(), &end);
        if (end == rest.c_str()) fail("expected a number");
        pos_ += std::size_t(end - rest.c_str());
        return v;
    }

    FormulaExpr expression() {
        skipSpace();
        FormulaExpr e;
        if (std::isdigit(peek()) || at('-') || at('.')) {
            e.number = number();
            return e;
        }
        e.name = identifier();
        skipSpace();
        if (!at('(') && !at('[')) {
            e.kind = FormulaExpr::Kind::Name;
            return e;
        }
        e.kind = FormulaExpr::Kind::Call;
        auto op = opFromName(e.name);
        if (!op) fail("unknown op '" + e.name + "'");
        e.op = *op;
        if (take('[')) {
            do {
                const std::string attr = identifier();
                expect('=');
                const double v = number();
                const AttrSpec* spec = nullptr;
                for (const auto& a : opInfo(e.op).attrs)
                    if (a.name == attr) spec = &a;
                if (!spec) fail("op '" + e.name + "' has no attribute '" + attr + "'");
                if (spec->type == AttrType::Int) e.attrs.set(attr, std::int64_t(v));
                else e.attrs.set(attr, v);
            } while (take(','));
            expect(']');
        }
        expect('(');
        if (!take(')')) {
            do e.args.push_back(expression());
            while (take(','));
            expect(')');
        }
        return e;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

ValueRef build(GraphBuilder& b, const FormulaExpr& e, const std::map<std::string, ValueRef>& names, const Node* node) {
    switch (e.kind) {
        case FormulaExpr::Kind::Number:
            return b.constant(float(e.number));
        case FormulaExpr::Kind::Name: {
            if (auto it = names.find(e.name); it != names.end()) {
                if (it->second.node == kNoNode) throw GraphError("formula name '" + e.name + "' has no value here");
                return it->second;
            }
            if (node && node->attrs.available(node->op, e.name)) return b.constant(float(node->attrs.getFloat(node->op, e.name)));
            throw GraphError("formula name '" + e.name + "' is not bound" + (node ? " (node '" + node->name + "')" : std::string()));
        }
        case FormulaExpr::Kind::Call: {
            std::vector<ValueRef> args;
            for (const auto& a : e.args) args.push_back(build(b, a, names, node));
            return b.op(e.op, std::move(args), e.attrs);
        }
    }
    throw GraphError("formula: bad expression");
}

struct ParsedColumns {
    std::vector<Formula> derivative, kinks, decomposition;
};

const ParsedColumns& parsedColumns() {
    static const ParsedColumns all = [] {
        ParsedColumns p;
        for (const auto& info : allOps()) {
            p.derivative.push_back(parseFormula(info.derivative, "da"));
            p.kinks.push_back(parseFormula(info.kinks, "k"));
            p.decomposition.push_back(parseFormula(info.decomposition, "y"));
        }
        return p;
    }();
    return all;
}

}  // namespace

const FormulaStatement* Formula::find(const std::string& target) const {
    for (const auto& s : statements)
        if (s.target == target) return &s;
    return nullptr;
}

Formula parseFormula(std::string_view text, const std::string& defaultTarget) { return Parser(text).parse(defaultTarget); }

const Formula& opFormula(Op op, FormulaColumn column) {
    const ParsedColumns& p = parsedColumns();
    switch (column) {
        case FormulaColumn::Derivative: return p.derivative[std::size_t(op)];
        case FormulaColumn::Kinks: return p.kinks[std::size_t(op)];
        case FormulaColumn::Decomposition: return p.decomposition[std::size_t(op)];
    }
    return p.derivative[std::size_t(op)];
}

namespace {
void collectNames(const FormulaExpr& e, std::vector<std::string>& out) {
    if (e.kind == FormulaExpr::Kind::Name) out.push_back(e.name);
    for (const auto& a : e.args) collectNames(a, out);
}
}  // namespace

std::map<std::string, ValueRef> buildFormula(GraphBuilder& b, const Formula& f, const std::map<std::string, ValueRef>& values, const Node* node,
                                             const std::vector<std::string>& wanted) {
    // the statements the wanted targets depend on (all when none is named)
    std::vector<bool> needed(f.statements.size(), wanted.empty());
    if (!wanted.empty()) {
        std::vector<std::string> todo = wanted;
        while (!todo.empty()) {
            const std::string name = todo.back();
            todo.pop_back();
            for (std::size_t i = f.statements.size(); i-- > 0;)
                if (f.statements[i].target == name && !needed[i]) {
                    needed[i] = true;
                    collectNames(f.statements[i].expr, todo);
                    break;
                }
        }
    }
    std::map<std::string, ValueRef> names = values;
    std::map<std::string, ValueRef> out;
    for (std::size_t i = 0; i < f.statements.size(); ++i) {
        if (!needed[i]) continue;
        const FormulaStatement& st = f.statements[i];
        const ValueRef v = build(b, st.expr, names, node);
        names[st.target] = v;
        out[st.target] = v;
    }
    return out;
}

const char* formulaInputName(std::size_t k) {
    static const char* names[] = {"a", "b", "c"};
    return k < 3 ? names[k] : "?";
}

}  // namespace adj
