#include "ir/op.h"

#include <stdexcept>

namespace adj {
namespace {

std::string trim(std::string s) {
    auto b = s.find_first_not_of(" \t");
    auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

AttrType parseType(const std::string& t) {
    if (t == "int") return AttrType::Int;
    if (t == "float") return AttrType::Float;
    if (t == "ints") return AttrType::Ints;
    if (t == "floats") return AttrType::Floats;
    if (t == "string") return AttrType::String;
    throw std::logic_error("ops.def: unknown attribute type " + t);
}

AttrConstraint parseConstraint(const std::string& c) {
    AttrConstraint k{AttrConstraint::Kind::Greater, 0};
    std::size_t skip = 1;
    if (c.rfind(">=", 0) == 0) k.kind = AttrConstraint::Kind::GreaterEqual, skip = 2;
    else if (c.rfind("<=", 0) == 0) k.kind = AttrConstraint::Kind::LessEqual, skip = 2;
    else if (c.rfind(">", 0) == 0) k.kind = AttrConstraint::Kind::Greater;
    else if (c.rfind("<", 0) == 0) k.kind = AttrConstraint::Kind::Less;
    else throw std::logic_error("ops.def: bad constraint " + c);
    k.bound = std::stod(c.substr(skip));
    return k;
}

std::vector<AttrSpec> parseSchema(std::string_view schema) {
    std::vector<AttrSpec> out;
    std::string s(schema);
    // split on commas that are not inside brackets
    int depth = 0;
    std::string cur;
    auto flush = [&] {
        std::string item = trim(cur);
        cur.clear();
        if (item.empty()) return;
        AttrSpec a;
        if (auto brace = item.find('{'); brace != std::string::npos) {
            const auto close = item.find('}', brace);
            if (close == std::string::npos) throw std::logic_error("ops.def: unclosed constraint in " + item);
            std::string list = item.substr(brace + 1, close - brace - 1);
            for (std::size_t b = 0; b <= list.size();) {
                std::size_t e = list.find('&', b);
                if (e == std::string::npos) e = list.size();
                a.constraints.push_back(parseConstraint(trim(list.substr(b, e - b))));
                b = e + 1;
            }
            item = trim(item.substr(0, brace));
        }
        auto colon = item.find(':');
        a.name = trim(item.substr(0, colon));
        std::string rest = item.substr(colon + 1);
        auto eq = rest.find('=');
        if (eq != std::string::npos) {
            a.defaultText = trim(rest.substr(eq + 1));
            rest = rest.substr(0, eq);
        }
        rest = trim(rest);
        bool optional = !rest.empty() && rest.back() == '?';
        if (optional) rest.pop_back();
        a.type = parseType(rest);
        a.required = !optional && a.defaultText.empty();
        out.push_back(a);
    };
    for (char c : s) {
        if (c == '[' || c == '{') ++depth;
        if (c == ']' || c == '}') --depth;
        if (c == ',' && depth == 0) flush();
        else cur += c;
    }
    flush();
    return out;
}

std::uint32_t ewGroups(int arity, std::uint32_t groups) { return groups | EW | (arity == 1 ? UN : 0u) | (arity == 2 ? BIN : 0u); }

std::vector<OpInfo> buildTable() {
    std::vector<OpInfo> t;
#define OP(id, name, minIn, maxIn, groups, family, cost, flops, attrs, onnx, doc) \
    t.push_back(OpInfo{Op::id, name, minIn, maxIn, groups, parseSchema(attrs), OpFamily::family, CostKind::cost, flops, onnx, doc, {}, {}, {}, {}});
#define EW(id, name, arity, groups, flops, attrs, onnx, expr, derivative, kinks, decomposition, doc)                                   \
    t.push_back(OpInfo{Op::id, name, arity, arity, ewGroups(arity, groups), parseSchema(attrs), OpFamily::Elementwise, CostKind::PerOutput, \
                       flops, onnx, doc, #expr, derivative, kinks, decomposition});
#include "ir/ops.def"
#undef OP
#undef EW
    for (const auto& info : t)
        if (info.family == OpFamily::Elementwise)
            for (const auto& a : info.attrs) {
                bool param = false;
                for (const char* p : kEwParamNames) param = param || a.name == p;
                if (!param || a.type != AttrType::Float)
                    throw std::logic_error("ops.def: elementwise op " + std::string(info.name) + " has attribute " + a.name +
                                           "; elementwise attributes are floats named alpha, beta, gamma");
            }
    return t;
}

}  // namespace

const std::vector<OpInfo>& allOps() {
    static const std::vector<OpInfo> table = buildTable();
    return table;
}

const OpInfo& opInfo(Op op) { return allOps()[std::size_t(op)]; }
std::string_view opName(Op op) { return opInfo(op).name; }

std::optional<Op> opFromName(std::string_view name) {
    for (const auto& info : allOps())
        if (info.name == name) return info.op;
    return std::nullopt;
}

bool AttrConstraint::holds(double v) const {
    switch (kind) {
        case Kind::Greater: return v > bound;
        case Kind::GreaterEqual: return v >= bound;
        case Kind::Less: return v < bound;
        case Kind::LessEqual: return v <= bound;
    }
    return false;
}

std::string AttrConstraint::text() const {
    static const char* ops[] = {">", ">=", "<", "<="};
    std::string b = std::to_string(bound);
    b.erase(b.find_last_not_of('0') + 1);
    if (!b.empty() && b.back() == '.') b.pop_back();
    return ops[int(kind)] + b;
}

std::string_view opFamilyName(OpFamily f) {
    switch (f) {
        case OpFamily::Source: return "source";
        case OpFamily::Elementwise: return "elementwise";
        case OpFamily::Fused: return "fused";
        case OpFamily::MatMul: return "matmul";
        case OpFamily::Reduce: return "reduce";
        case OpFamily::View: return "view";
        case OpFamily::Copy: return "copy";
        case OpFamily::Index: return "index";
        case OpFamily::Conv: return "conv";
        case OpFamily::Pool: return "pool";
        case OpFamily::Norm: return "norm";
        case OpFamily::Grad: return "grad";
    }
    return "?";
}

std::string_view attrTypeName(AttrType t) {
    switch (t) {
        case AttrType::Int: return "int";
        case AttrType::Float: return "float";
        case AttrType::Ints: return "ints";
        case AttrType::Floats: return "floats";
        case AttrType::String: return "string";
    }
    return "?";
}

}  // namespace adj
