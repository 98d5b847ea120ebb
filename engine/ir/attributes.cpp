#include "ir/attributes.h"

#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace adj {

AttrType attrValueType(const AttrValue& v) {
    switch (v.index()) {
        case 0: return AttrType::Int;
        case 1: return AttrType::Float;
        case 2: return AttrType::String;
        case 3: return AttrType::Ints;
        default: return AttrType::Floats;
    }
}

static std::string fmtDouble(double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", d);
    return buf;
}

std::string attrValueToString(const AttrValue& v) {
    switch (v.index()) {
        case 0: return std::to_string(std::get<0>(v));
        case 1: return fmtDouble(std::get<1>(v));
        case 2: return "\"" + std::get<2>(v) + "\"";
        case 3: {
            std::string s = "[";
            for (std::size_t i = 0; i < std::get<3>(v).size(); ++i) s += (i ? ", " : "") + std::to_string(std::get<3>(v)[i]);
            return s + "]";
        }
        default: {
            std::string s = "[";
            for (std::size_t i = 0; i < std::get<4>(v).size(); ++i) s += (i ? ", " : "") + fmtDouble(std::get<4>(v)[i]);
            return s + "]";
        }
    }
}

AttrValue parseAttrDefault(const AttrSpec& spec) {
    std::string t = spec.defaultText;
    switch (spec.type) {
        case AttrType::Int: return std::int64_t(std::stoll(t));
        case AttrType::Float: return std::stod(t);
        case AttrType::String: return t;
        case AttrType::Ints:
        case AttrType::Floats: {
            std::vector<std::int64_t> ints;
            std::vector<double> floats;
            std::string body = t.substr(1, t.size() - 2);
            std::stringstream ss(body);
            std::string item;
            while (std::getline(ss, item, ',')) {
                if (spec.type == AttrType::Ints) ints.push_back(std::stoll(item));
                else floats.push_back(std::stod(item));
            }
            if (spec.type == AttrType::Ints) return ints;
            return floats;
        }
    }
    return std::int64_t(0);
}

static const AttrSpec* findSpec(Op op, const std::string& name) {
    for (const auto& s : opInfo(op).attrs)
        if (s.name == name) return &s;
    return nullptr;
}

const AttrValue* Attributes::lookup(Op op, const std::string& name, AttrValue& scratch) const {
    auto it = map_.find(name);
    if (it != map_.end()) return &it->second;
    const AttrSpec* spec = findSpec(op, name);
    if (spec && !spec->defaultText.empty()) {
        scratch = parseAttrDefault(*spec);
        return &scratch;
    }
    return nullptr;
}

bool Attributes::available(Op op, const std::string& name) const {
    AttrValue scratch;
    return lookup(op, name, scratch) != nullptr;
}

template <class T>
static T getTyped(const AttrValue* v, Op op, const std::string& name, const char* typeName) {
    if (!v) throw std::invalid_argument("attribute '" + name + "' of " + std::string(opName(op)) + " is missing");
    if (auto p = std::get_if<T>(v)) return *p;
    // an int where a float is expected is fine (JSON writes 1.0 as 1)
    if constexpr (std::is_same_v<T, double>)
        if (auto p = std::get_if<std::int64_t>(v)) return double(*p);
    if constexpr (std::is_same_v<T, std::vector<double>>)
        if (auto p = std::get_if<std::vector<std::int64_t>>(v)) return std::vector<double>(p->begin(), p->end());
    throw std::invalid_argument("attribute '" + name + "' of " + std::string(opName(op)) + " must be of type " + typeName);
}

std::int64_t Attributes::getInt(Op op, const std::string& name) const {
    AttrValue s;
    return getTyped<std::int64_t>(lookup(op, name, s), op, name, "int");
}
double Attributes::getFloat(Op op, const std::string& name) const {
    AttrValue s;
    return getTyped<double>(lookup(op, name, s), op, name, "float");
}
std::vector<std::int64_t> Attributes::getInts(Op op, const std::string& name) const {
    AttrValue s;
    return getTyped<std::vector<std::int64_t>>(lookup(op, name, s), op, name, "ints");
}
std::vector<double> Attributes::getFloats(Op op, const std::string& name) const {
    AttrValue s;
    return getTyped<std::vector<double>>(lookup(op, name, s), op, name, "floats");
}
std::string Attributes::getString(Op op, const std::string& name) const {
    AttrValue s;
    return getTyped<std::string>(lookup(op, name, s), op, name, "string");
}

EwParams ewParams(Op op, const Attributes& attrs) {
    EwParams p{0.f, 0.f, 0.f};
    for (std::size_t i = 0; i < kEwParamNames.size(); ++i)
        if (attrs.available(op, kEwParamNames[i])) p[i] = float(attrs.getFloat(op, kEwParamNames[i]));
    return p;
}

Attributes ewAttributes(Op op, const EwParams& p) {
    Attributes a;
    for (const auto& spec : opInfo(op).attrs)
        for (std::size_t i = 0; i < kEwParamNames.size(); ++i)
            if (spec.name == kEwParamNames[i]) a.set(spec.name, double(p[i]));
    return a;
}

}  // namespace adj
