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
        if (c == '[') ++depth;
        if (c == ']') --depth;
        if (c == ',' && depth == 0) flush();
        else cur += c;
    }
    flush();
    return out;
}

std::vector<OpInfo> buildTable() {
    std::vector<OpInfo> t;
#define OP(id, name, minIn, maxIn, groups, attrs) t.push_back(OpInfo{Op::id, name, minIn, maxIn, groups, parseSchema(attrs)});
#include "ir/ops.def"
#undef OP
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
